import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../../common/errors';
import { startLab, type LabHandle } from '../../../lab';
import { main } from '../../../main/cli';
import { tempDir } from '../../lab/support';
import { captureIO } from './capture-io';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
beforeAll(async () => {
  tmp = tempDir('tether-discover-fail-');
  lab = await startLab({ stateDir: tmp.dir, services: [], publishEndpoints: false });
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

// The lab's DNS serves only its own domain: for another one no Registrar can be found (the lab
// refuses the questions, DNS_UNAVAILABLE; a server that said NXDOMAIN would give DNS_NO_REGISTRAR).
const args = ['discover', '--domain', 'nowhere.test'];

describe('discover failures go through the common error report', () => {
  it('people: exit 1 with the error code, its stage and a fix line', async () => {
    const t = captureIO();
    expect(await main([...args, '--dns', lab.dnsServer], t)).toBe(1);
    const code = /^error (DNS_NO_REGISTRAR|DNS_UNAVAILABLE) \(stage 5: [^)]+\): /m.exec(t.err())?.[1] as 'DNS_NO_REGISTRAR' | 'DNS_UNAVAILABLE' | undefined;
    expect(code, t.err()).toBeDefined();
    expect(t.err()).toContain(`  fix: ${CATALOGUE[code!].fix}`);
  });

  it('--json: one document with ok false and error {code, stage, message, detail, fix, cmdlet}', async () => {
    const t = captureIO();
    expect(await main([...args, '--dns', lab.dnsServer, '--json'], t)).toBe(1);
    const doc = JSON.parse(t.out());
    expect(doc.ok).toBe(false);
    expect(['DNS_NO_REGISTRAR', 'DNS_UNAVAILABLE']).toContain(doc.error.code);
    expect(doc.error).toMatchObject({ stage: 'registrar', fix: CATALOGUE[doc.error.code as 'DNS_UNAVAILABLE'].fix });
    expect(doc.error).toHaveProperty('cmdlet');
    expect(doc.error).toHaveProperty('detail');
    // The findings are still there beside the error.
    expect(doc.candidates.length).toBeGreaterThan(0);
  });
});
