import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createPoolResolver } from '../../../../main/pool/net/resolver';
import { discoverPool } from '../../../../main/pool/discovery/discover';
import { createServer, type Server } from 'node:net';
import { dnsmasqMissing, freePort, startDnsmasq, type Dnsmasq } from './dnsmasq';

const run = promisify(execFile);
const missing = dnsmasqMissing();
if (missing && process.env.CI) throw new Error(`CI must run the dnsmasq tests: ${missing}`);
if (missing) console.warn(`skipping dnsmasq discovery tests: ${missing}`);

describe.skipIf(missing !== null)('discovery against dnsmasq on loopback', () => {
  let full: Dnsmasq;
  let tcpOnly: Dnsmasq;
  let probing: Dnsmasq;
  let live: Server;
  beforeAll(async () => {
    live = createServer((s) => s.destroy());
    await new Promise<void>((r) => live.listen(0, '127.0.0.1', r));
    const livePort = (live.address() as { port: number }).port;
    const deadPort = await freePort();
    probing = await startDnsmasq([
      `--srv-host=_sipinternaltls._tcp.probe.test,dead.probe.test,${deadPort},0,0`,
      `--srv-host=_sipinternal._tcp.probe.test,live.probe.test,${livePort},0,0`,
      '--host-record=dead.probe.test,127.0.0.1',
      '--host-record=live.probe.test,127.0.0.1',
    ]);
    [full, tcpOnly] = await Promise.all([
      startDnsmasq([
        // Two TLS targets at priority 0 (weights 90/10) and a backup at priority 10.
        '--srv-host=_sipinternaltls._tcp.contoso.test,pool01.contoso.test,5061,0,90',
        '--srv-host=_sipinternaltls._tcp.contoso.test,pool02.contoso.test,5061,0,10',
        '--srv-host=_sipinternaltls._tcp.contoso.test,backup.contoso.test,5061,10,0',
        '--srv-host=_sip._tls.contoso.test,edge.contoso.test,443,0,0',
        '--host-record=pool01.contoso.test,127.0.0.11',
        '--host-record=pool02.contoso.test,127.0.0.12',
        '--host-record=backup.contoso.test,127.0.0.13',
        '--host-record=edge.contoso.test,127.0.0.14',
        '--host-record=ucupdates-r2.contoso.test,127.0.0.11',
      ]),
      startDnsmasq([
        '--srv-host=_sipinternal._tcp.fabrikam.test,fe.fabrikam.test,5060,0,0',
        '--host-record=fe.fabrikam.test,127.0.0.21',
        '--host-record=sipinternal.fabrikam.test,127.0.0.22',
      ]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([full?.stop(), tcpOnly?.stop(), probing?.stop()]);
    live?.close();
  });

  it('finds the internal TLS pool, ordered by priority and weight, and ucupdates-r2', async () => {
    const resolver = createPoolResolver({ server: full.server, timeoutMs: 1000, tries: 1 });
    const r = await discoverPool({ domain: 'contoso.test', resolver, random: () => 0.5 });
    const step1 = r.candidates.filter((c) => c.step === 1);
    // 0.5 · 101 = 50 ≤ 90: pool01 first; then pool02; priority 10 last.
    expect(step1.map((c) => [c.host, c.port, c.addresses[0], c.status])).toEqual([
      ['pool01.contoso.test', 5061, '127.0.0.11', 'chosen'],
      ['pool02.contoso.test', 5061, '127.0.0.12', 'usable'],
      ['backup.contoso.test', 5061, '127.0.0.13', 'usable'],
    ]);
    expect(r.candidates.find((c) => c.step === 3)?.reason).toMatch(/no SRV record/);
    expect(r.candidates.find((c) => c.step === 5)).toMatchObject({ host: 'edge.contoso.test', port: 443 });
    expect(r.registrar).toMatchObject({ host: 'pool01.contoso.test', port: 5061, transport: 'tls', step: 1 });
    expect(r.webServices?.url).toBe('https://pool01.contoso.test/CertProv/CertProvisioningService.svc');
    expect(r.deviceUpdate).toMatchObject({ fqdn: 'ucupdates-r2.contoso.test', found: true, addresses: ['127.0.0.11'] });
    // With a low draw the lighter record can come first (random source is honoured end to end).
    const low = await discoverPool({ domain: 'contoso.test', resolver, random: () => 0.99 });
    expect(low.registrar?.host).toBe('pool02.contoso.test');
  });

  it('falls to internal TCP SRV and reports the missing Device Update record', async () => {
    const resolver = createPoolResolver({ server: tcpOnly.server, timeoutMs: 1000, tries: 1 });
    const r = await discoverPool({ domain: 'fabrikam.test', resolver });
    expect(r.registrar).toMatchObject({ host: 'fe.fabrikam.test', port: 5060, transport: 'tcp', step: 3 });
    expect(r.candidates.find((c) => c.step === 7)).toMatchObject({ host: 'sipinternal.fabrikam.test', status: 'usable' });
    expect(r.deviceUpdate.found).toBe(false);
    expect(r.deviceUpdate.error?.code).toBe('DNS_NO_DEVICE_UPDATE');
  });

  it('tether discover prints one JSON document, and plain text for people', async () => {
    const json = await run(process.execPath, ['bin/tether.mjs', 'discover', '--domain', 'contoso.test', '--dns', full.server, '--json'], { cwd: process.cwd() });
    const doc = JSON.parse(json.stdout) as { ok: boolean; registrar: { host: string }; deviceUpdate: { fqdn: string }; candidates: unknown[] };
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(doc.ok).toBe(true);
    expect(doc.deviceUpdate.fqdn).toBe('ucupdates-r2.contoso.test');
    expect(doc.candidates.length).toBeGreaterThanOrEqual(9);
    const text = await run(process.execPath, ['bin/tether.mjs', 'discover', '--domain', 'fabrikam.test', '--dns', tcpOnly.server], { cwd: process.cwd() }).catch(
      (e: { stdout: string; code: number }) => e,
    );
    expect(text.stdout).toMatch(/Registrar: +fe\.fabrikam\.test:5060 \(TCP, step 3/);
    expect(text.stdout).toMatch(/Device Update: ucupdates-r2\.fabrikam\.test not found/);
  });

  it('--connect skips a candidate that refuses connections and takes the next one that answers', async () => {
    const plainRun = await run(process.execPath, ['bin/tether.mjs', 'discover', '--domain', 'probe.test', '--dns', probing.server, '--json']);
    expect(JSON.parse(plainRun.stdout).registrar).toMatchObject({ host: 'dead.probe.test', step: 1 });
    const probed = await run(process.execPath, ['bin/tether.mjs', 'discover', '--domain', 'probe.test', '--dns', probing.server, '--connect', '--json']);
    const doc = JSON.parse(probed.stdout) as { registrar: unknown; candidates: { step: number; status: string; reason: string }[] };
    expect(doc.registrar).toMatchObject({ host: 'live.probe.test', step: 3, transport: 'tcp' });
    expect(doc.candidates[0]).toMatchObject({ step: 1, status: 'skipped', reason: expect.stringMatching(/did not accept a connection/) });
  });
});
