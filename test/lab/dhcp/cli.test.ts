import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { main } from '../../../main/cli';
import { parseLabArgs } from '../../../main/cli/commands/lab';
import type { CliIO } from '../../../main/cli/io';
import { tempDir } from '../support';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;

beforeAll(async () => {
  tmp = tempDir('tether-dhcp-cli-');
  lab = await startLab({ stateDir: tmp.dir, dhcpVlan: 123 });
});
afterAll(async () => {
  await lab.stop();
  tmp.remove();
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: { write: (c: string) => (out += c) }, stderr: { write: (c: string) => (err += c) }, env: {} };
  const code = await main(args, io);
  return { code, out, err };
}

const discover = (...extra: string[]) =>
  run(['discover', '--domain', 'contoso.test', '--dns', lab.dnsServer, '--dhcp-inform', 'lo', '--dhcp-server', lab.endpoints.dhcp as string, '--dhcp-client-port', '0', ...extra]);

describe('tether discover --dhcp-server 127.0.0.1:PORT against the lab', () => {
  it('shows the option 43 sub-options, option 120 and the VLAN (text)', async () => {
    const { code, out } = await discover('--dhcp-vlan');
    expect(code).toBe(0);
    const https = lab.httpsPort;
    expect(out).toContain(`option 43:  https://pool01.contoso.test:${https}/CertProv/CertProvisioningService.svc`);
    expect(out).toContain(
      `(1 UCIdentifier MS-UC-Client, 2 URLScheme https, 3 WebServerFqdn pool01.contoso.test, 4 WebServerPort ${https}, 5 CertProvRelPath /CertProv/CertProvisioningService.svc)`,
    );
    expect(out).toContain('option 120: pool01.contoso.test');
    expect(out).toContain('VLAN (CPE-OCPHONE): VLAN ID 123 (from 127.0.0.1)');
    expect(out).toMatch(/Web Services: +https:\/\/pool01\.contoso\.test:\d+\/CertProv\/CertProvisioningService\.svc \(from DHCP option 43\)/);
  });

  it("JSON: the decoded option 43 and its raw bytes, the same as the lab's ctx.dhcpOptions(); option43-wrong shows the stale FQDN", async () => {
    const first = JSON.parse((await discover('--json')).out) as { ok: boolean; dhcp: { option43: { hex: string; decoded: Record<string, unknown> } }; webServices: { url: string } };
    expect(first.ok).toBe(true);
    expect(first.dhcp.option43.hex).toBe(Buffer.from(lab.context.dhcpOptions().option43).toString('hex'));
    expect(first.dhcp.option43.decoded).toMatchObject({ ucIdentifier: 'MS-UC-Client', webServerFqdn: 'pool01.contoso.test', webServerPort: lab.httpsPort });
    lab.context.faults.set('option43-wrong', true);
    try {
      const wrong = JSON.parse((await discover('--json')).out) as typeof first;
      expect(wrong.dhcp.option43.decoded).toMatchObject({ webServerFqdn: 'webpool-old.contoso.test' });
      expect(wrong.webServices.url).toBe(`https://webpool-old.contoso.test:${lab.httpsPort}/CertProv/CertProvisioningService.svc`);
      expect(wrong.dhcp.option43.hex).toBe(Buffer.from(lab.context.dhcpOptions().option43).toString('hex'));
    } finally {
      lab.context.faults.set('option43-wrong', false);
    }
  });

  it('refuses bad --dhcp-server and --dhcp-client-port values as usage errors (exit 2)', async () => {
    for (const bad of [
      ['--dhcp-server', 'dhcp.contoso.test'],
      ['--dhcp-server', '127.0.0.1:'],
      ['--dhcp-server', '127.0.0.1:0'],
      ['--dhcp-server', '127.0.0.1:70000'],
      ['--dhcp-server', '300.0.0.1:67'],
      ['--dhcp-server', '[::1]:67'],
      ['--dhcp-client-port', '-1'],
      ['--dhcp-client-port', 'x'],
    ]) {
      const r = await run(['discover', '--domain', 'contoso.test', '--dhcp-inform', 'lo', ...bad]);
      expect(r.code, bad.join(' ')).toBe(2);
    }
    expect((await run(['discover', '--domain', 'contoso.test', '--dhcp-client-port', '0'])).code).toBe(2); // needs --dhcp-inform
  });
});

describe('tether lab (spawned) with its DHCP responder', () => {
  it("prints dhcp: 127.0.0.1:PORT on its first line, and discover reads option 43 from it", async () => {
    const state = tempDir('tether-dhcp-spawn-');
    const child = spawn(process.execPath, ['bin/tether.mjs', 'lab', '--state', state.dir, '--quiet', '--fault', 'option43-wrong', '--dhcp-vlan', 'none'], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`tether lab exited ${code} before printing`)));
      });
      const endpoints = JSON.parse(first) as { dhcp: string; dns: string; https: string };
      expect(endpoints.dhcp).toMatch(/^127\.0\.0\.1:\d+$/);
      const r = await run(['discover', '--domain', 'contoso.test', '--dns', endpoints.dns, '--dhcp-inform', 'lo', '--dhcp-server', endpoints.dhcp, '--dhcp-client-port', '0', '--json']);
      const out = JSON.parse(r.out) as { dhcp: { option43: { decoded: { webServerFqdn: string; webServerPort: number } } } };
      expect(out.dhcp.option43.decoded).toMatchObject({ webServerFqdn: 'webpool-old.contoso.test', webServerPort: Number(new URL(endpoints.https).port) });
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      state.remove();
    }
  });

  it('parses --dhcp-port and --dhcp-vlan, refusing bad values', () => {
    expect(parseLabArgs(['--dhcp-port', '6767', '--dhcp-vlan', '42'])).toMatchObject({ dhcpPort: 6767, dhcpVlan: 42 });
    expect(parseLabArgs(['--dhcp-vlan', 'none'])).toMatchObject({ dhcpVlan: null });
    for (const bad of [['--dhcp-vlan', '0'], ['--dhcp-vlan', '4095'], ['--dhcp-vlan', 'x'], ['--dhcp-port', '65536']]) {
      expect(() => parseLabArgs(bad), bad.join(' ')).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    }
  });
});
