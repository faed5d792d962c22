import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../../lab';
import { main } from '../../../../main/cli';
import { tempDir } from '../../../lab/support';
import { captureIO as io } from '../capture-io';

let lab: LabHandle;
let tmp: { dir: string; remove: () => void };
const labDir = () => join(tmp.dir, 'lab');

beforeAll(async () => {
  tmp = tempDir('tether-cli-external-');
  lab = await startLab({ stateDir: labDir(), view: 'both' });
});

afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

interface Stage {
  n: number;
  outcome: string;
  error: { code: string; fix: string } | null;
}
interface Report {
  ok: boolean;
  stages: Stage[] | null;
  external: {
    ok: boolean;
    dns: string;
    stages: Stage[];
    result: { facts: { deviceUpdateExternalUrl: string } | null; registrar: { host: string; step: number } | null; update: { authenticated: boolean } | null };
    error: { code: string; stage: string; fix: string } | null;
  } | null;
}

describe('tether test-bootstrap --lab --external', () => {
  it('signs in inside, then from outside through the external view only (--json)', async () => {
    const t = io({ TETHER_PIN: '13579' });
    const code = await main(['test-bootstrap', '--lab', labDir(), '--pin', '101', '--external', '--json'], t);
    expect(t.err()).toBe('');
    const report = JSON.parse(t.out()) as Report;
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.stages!.map((s) => s.outcome).slice(2)).toEqual(['done', 'done', 'done', 'done', 'done', 'done', 'done']);
    const ext = report.external!;
    expect(ext.dns).toBe(lab.external!.dnsServer);
    expect(ext.stages.map((s) => `${s.n}:${s.outcome}`)).toEqual(['1:not-applicable', '2:not-applicable', '3:done', '4:done', '5:done', '6:done', '7:done', '8:done', '9:done']);
    expect(ext.result.facts!.deviceUpdateExternalUrl).toBe(`${lab.external!.httpsBase}/RequestHandlerExt/ucdevice.upx`);
    expect(ext.result.registrar).toMatchObject({ host: 'sip.contoso.test', step: 5 });
    expect(ext.result.update).toMatchObject({ authenticated: true });
    expect(t.out()).not.toContain('13579');
    expect(t.out()).not.toContain('PRIVATE KEY');
  }, 60_000);

  it('people see both tables; facts holding null fail at stage 3 with the internal-sign-in fix', async () => {
    const t = io({ TETHER_PIN: '13579' });
    expect(await main(['test-bootstrap', '--lab', labDir(), '--pin', '101', '--external'], t)).toBe(0);
    expect(t.out()).toContain('From outside the corporate network');
    expect(t.out()).toContain('5. external DNS SRV (TLS): _sip._tls.contoso.test -> sip.contoso.test');
    expect(t.out()).toContain('Result: every stage passed from outside.');

    writeFileSync(join(tmp.dir, 'none.json'), 'null\n');
    const n = io({ TETHER_PIN: '13579' });
    expect(await main(['test-bootstrap', '--lab', labDir(), '--pin', '101', '--external', '--facts', join(tmp.dir, 'none.json'), '--json'], n)).toBe(1);
    const report = JSON.parse(n.out()) as Report;
    expect(report.stages).toBeNull();
    expect(report.external!.error).toMatchObject({ code: 'EXTERNAL_NEEDS_INTERNAL_SIGN_IN', stage: 'find-update' });
    expect(report.external!.error!.fix).toMatch(/corporate network/);
  }, 60_000);

  it('refuses --external without a DNS server outside, and --facts without --external (usage, exit 2)', async () => {
    const t = io({ TETHER_PIN: '13579' });
    expect(await main(['test-bootstrap', '--domain', 'contoso.test', '--dns', lab.dnsServer, '--pin', '101', '--external'], t)).toBe(2);
    expect(t.err()).toMatch(/--external-dns/);
    const u = io();
    expect(await main(['test-bootstrap', '--lab', labDir(), '--pin', '101:13579', '--facts', 'x.json'], u)).toBe(2);
  });
});
