import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { main } from '../../../main/cli';
import type { CliIO } from '../../../main/cli/io';
import { tempDir } from '../support';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;

beforeAll(async () => {
  tmp = tempDir('tether-web-check-');
  lab = await startLab({ stateDir: tmp.dir });
});
afterAll(async () => {
  lab.context.faults.set('option43-wrong', false);
  await lab.stop();
  tmp.remove();
});

async function discover(...extra: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIO = { stdout: { write: (c: string) => (out += c) }, stderr: { write: () => undefined }, env: {} };
  const args = ['discover', '--domain', 'contoso.test', '--dns', lab.dnsServer, '--dhcp-inform', 'lo', '--dhcp-server', lab.endpoints.dhcp as string, '--dhcp-client-port', '0'];
  const code = await main([...args, ...extra], io);
  return { code, out };
}

interface Doc {
  ok: boolean;
  webServices: { url: string; source: string };
  webServicesCheck: { host: string; addresses: string[]; resolves: boolean; warning: { code: string; stage: string; message: string; fix: string; cmdlet: string | null } | null };
}

describe('tether discover checks that the Web Services host resolves (lab DNS, lab DHCP responder)', () => {
  it('healthy lab: the option 43 host resolves through the lab DNS; no warning, exit 0 even with --strict', async () => {
    const json = await discover('--json', '--strict');
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out) as Doc;
    expect(doc.webServices.source).toBe('dhcp-option-43');
    expect(doc.webServicesCheck).toMatchObject({ host: 'pool01.contoso.test', resolves: true, warning: null });
    expect(doc.webServicesCheck.addresses.length).toBeGreaterThan(0);
    const text = await discover();
    expect(text.out).toMatch(/^ {15}pool01\.contoso\.test -> \d+\.\d+\.\d+\.\d+/m);
    expect(text.out).not.toContain('WARNING');
  });

  it("option43-wrong: JSON and text carry WEB_SERVICES_UNRESOLVED with the [S10] fix; exit 0, or 1 with --strict", async () => {
    lab.context.faults.set('option43-wrong', true);
    try {
      const json = await discover('--json');
      expect(json.code).toBe(0);
      const doc = JSON.parse(json.out) as Doc;
      expect(doc.ok).toBe(true);
      expect(doc.webServicesCheck).toMatchObject({
        host: 'webpool-old.contoso.test',
        addresses: [],
        resolves: false,
        warning: { code: 'WEB_SERVICES_UNRESOLVED', stage: 'ca-chain', cmdlet: 'DHCPUtil.exe -EmulateClient' },
      });
      expect(doc.webServicesCheck.warning!.message).toContain('Unable to locate Lync Certificate Web service');
      expect(doc.webServicesCheck.warning!.fix).toMatch(/option 43 .*DHCPUtil/i);

      const text = await discover();
      expect(text.code).toBe(0);
      expect(text.out).toMatch(/WARNING WEB_SERVICES_UNRESOLVED: The Web Services host webpool-old\.contoso\.test \(from DHCP option 43, sub-option 3 WebServerFqdn\) does not resolve: no such name \(NXDOMAIN\)/);
      expect(text.out).toMatch(/^ {2}fix: Option 43 is wrong or stale/m);
      expect(text.out).toContain('  check: DHCPUtil.exe -EmulateClient');

      expect((await discover('--strict')).code).toBe(1);
      expect((await discover('--strict', '--json')).code).toBe(1);
    } finally {
      lab.context.faults.set('option43-wrong', false);
    }
  });
});
