import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeOption120, encodeUcClientOption43, encodeVlanOption43 } from '../../../../common/pool/dhcp-options';
import { DNSMASQ, startProcess, stopProcess } from './dnsmasq';

const run = promisify(execFile);
const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
const SERVER_NS = `tp1s${tag}`;
const CLIENT_NS = `tp1c${tag}`;
const SERVER_IF = `vs${tag}`;
const CLIENT_IF = `vc${tag}`;
// A private range that exists only inside the two namespaces this test creates.
const NET = '10.213.7';

/** Why network-namespace tests cannot run here, or null. */
function netnsMissing(): string | null {
  if (DNSMASQ === null) return 'dnsmasq is not installed';
  if (process.getuid?.() !== 0) return 'not root (ip netns needs CAP_SYS_ADMIN)';
  try {
    execFileSync('ip', ['netns', 'add', `${SERVER_NS}x`], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', `${SERVER_NS}x`], { stdio: 'pipe' });
  } catch (err) {
    return `ip netns is not usable: ${(err as Error).message.split('\n')[0]}`;
  }
  return null;
}

const missing = netnsMissing();
if (missing && process.env.CI) throw new Error(`CI must run the DHCPINFORM namespace test: ${missing}`);
if (missing) console.warn(`skipping DHCPINFORM namespace test: ${missing}`);

/**
 * Resolves once the kernel reports the link as running. `ip link set up` returns before that: the
 * veth's operstate turns UP a little later (the kernel's link watcher runs deferred, up to ~1 s),
 * and until then Node's networkInterfaces() leaves the interface out, so a probe started too early
 * fails with "no usable link" without sending anything.
 */
async function linkRunning(ns: string, dev: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let state = 'unknown';
  while (Date.now() < deadline) {
    const { stdout } = await run('ip', ['-j', '-n', ns, 'link', 'show', 'dev', dev]);
    state = (JSON.parse(stdout) as { operstate?: string }[])[0]?.operstate ?? 'missing';
    if (state === 'UP') return;
    // Each look spawns `ip` (a few ms); a short pause keeps the poll from hogging a core.
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${dev} in ${ns} did not come up within ${timeoutMs} ms (operstate ${state})`);
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

describe.skipIf(missing !== null)('DHCPINFORM probe against dnsmasq in a namespace pair', () => {
  let dnsmasq: ChildProcess | null = null;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-dhcp-'));
    ip('netns', 'add', SERVER_NS);
    ip('netns', 'add', CLIENT_NS);
    ip('link', 'add', SERVER_IF, 'netns', SERVER_NS, 'type', 'veth', 'peer', 'name', CLIENT_IF, 'netns', CLIENT_NS);
    ip('-n', SERVER_NS, 'addr', 'add', `${NET}.1/24`, 'dev', SERVER_IF);
    ip('-n', CLIENT_NS, 'addr', 'add', `${NET}.2/24`, 'dev', CLIENT_IF);
    for (const [ns, dev] of [[SERVER_NS, SERVER_IF], [CLIENT_NS, CLIENT_IF]] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    await Promise.all([linkRunning(SERVER_NS, SERVER_IF), linkRunning(CLIENT_NS, CLIENT_IF)]);
    const o43 = encodeUcClientOption43({ ucIdentifier: 'MS-UC-Client', urlScheme: 'https', webServerFqdn: 'web.contoso.test', webServerPort: 4443, certProvRelPath: '/CertProv/CertProvisioningService.svc' });
    dnsmasq = await startProcess(
      [
        '--no-daemon',
        '--no-resolv',
        '--no-hosts',
        `--listen-address=${NET}.1`,
        '--bind-interfaces',
        '--local=/test/',
        '--srv-host=_sipinternaltls._tcp.contoso.test,pool01.contoso.test,5061,0,0',
        `--host-record=pool01.contoso.test,${NET}.1`,
        `--host-record=ucupdates-r2.contoso.test,${NET}.1`,
        `--dhcp-range=${NET}.50,${NET}.99,255.255.255.0`,
        `--dhcp-leasefile=${join(dir, 'leases')}`,
        '--dhcp-vendorclass=set:ms,MS-UC-Client',
        `--dhcp-option-force=tag:ms,43,${hex(o43)}`,
        `--dhcp-option-force=tag:ms,120,${hex(encodeOption120(['pool01.contoso.test']))}`,
        '--dhcp-vendorclass=set:vlan,CPE-OCPHONE',
        `--dhcp-option-force=tag:vlan,43,${hex(encodeVlanOption43(200))}`,
      ],
      ['ip', 'netns', 'exec', SERVER_NS],
    );
  });
  afterAll(async () => {
    if (dnsmasq) await stopProcess(dnsmasq);
    for (const ns of [SERVER_NS, CLIENT_NS]) {
      try {
        ip('netns', 'del', ns); // removes the veth pair with it
      } catch {
        // not created
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const discover = (domain: string, ...extra: string[]) =>
    run('ip', ['netns', 'exec', CLIENT_NS, process.execPath, 'bin/tether.mjs', 'discover', '--dhcp-inform', CLIENT_IF, '--domain', domain, '--dns', `${NET}.1:53`, '--json', ...extra], {
      cwd: process.cwd(),
    }).catch((e: { stdout: string }) => e);

  it('broadcasts from the interface, gets options 43 and 120 in the DHCPACK, and merges them with DNS', async () => {
    const { stdout } = await discover('contoso.test');
    const doc = JSON.parse(stdout);
    expect(doc.dhcpError).toBeNull();
    expect(doc.dhcp).toMatchObject({ interfaceName: CLIENT_IF, clientIp: `${NET}.2`, server: `${NET}.1`, vendorClass: 'MS-UC-Client' });
    expect(doc.dhcp.option43.decoded.certProvUrl).toBe('https://web.contoso.test:4443/CertProv/CertProvisioningService.svc');
    expect(doc.dhcp.option120.names).toEqual(['pool01.contoso.test']);
    expect(doc.registrar).toMatchObject({ host: 'pool01.contoso.test', step: 1 });
    expect(doc.webServices).toEqual({ url: 'https://web.contoso.test:4443/CertProv/CertProvisioningService.svc', source: 'dhcp-option-43' });
    expect(doc.deviceUpdate).toMatchObject({ fqdn: 'ucupdates-r2.contoso.test', found: true, addresses: [`${NET}.1`] });
  });

  it('takes the DHCP Registrar (step 2) when the domain has no internal TLS SRV', async () => {
    const { stdout } = await discover('fabrikam.test');
    const doc = JSON.parse(stdout);
    expect(doc.dhcpError).toBeNull();
    expect(doc.ok).toBe(true);
    expect(doc.registrar).toMatchObject({ host: 'pool01.contoso.test', port: 5061, transport: 'tls', step: 2 });
    expect(doc.candidates[0]).toMatchObject({ step: 1, status: 'skipped' });
  });

  it('--dhcp-vlan asks with vendor class CPE-OCPHONE and reads sub-option 10 as the VLAN ID', async () => {
    const { stdout } = await discover('contoso.test', '--dhcp-vlan');
    const doc = JSON.parse(stdout);
    expect(doc.dhcpError).toBeNull();
    expect(doc.vlan).toMatchObject({ vlanId: 200, error: null, answer: { vendorClass: 'CPE-OCPHONE', option43: null } });
    // The MS-UC-Client exchange is unaffected.
    expect(doc.dhcp.option43.decoded.webServerFqdn).toBe('web.contoso.test');
    expect(doc.dhcp.vlan).toBeNull();
  });
});
