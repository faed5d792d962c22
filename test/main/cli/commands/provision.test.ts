import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../../lab';
import { main } from '../../../../main/cli';
import { parseProvisionArgs } from '../../../../main/cli/commands/provision';
import { tempDir } from '../../../lab/support';
import { CANARY_PASSWORD, CANARY_PIN, CANARY_USER, filesHolding, filesUnder, seedCanaryLab } from '../../../support/canary-lab';
import { captureIO as io } from '../capture-io';

/**
 * `tether provision`, `jobs` and `history` against a lab running in this process (as `tether lab`
 * would, with its endpoints file), with a canary PIN and password: they appear in no output and in
 * no file under the data folder.
 */

let lab: LabHandle;
const tmp = tempDir('tether-provision-');
const labDir = join(tmp.dir, 'lab');
const data = join(tmp.dir, 'data');
const outputs: string[] = [];

beforeAll(async () => {
  await seedCanaryLab(labDir);
  lab = await startLab({ stateDir: labDir });
}, 60_000);
afterAll(async () => {
  await lab.stop();
  tmp.remove();
});

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const o = io(env);
  const code = await main(argv, o);
  outputs.push(o.out(), o.err());
  return { code, out: o.out(), err: o.err() };
}

interface Result {
  type: string;
  serial: string;
  outcome: string;
  certificatePem: string | null;
  chainPem: string[] | null;
  sipUri: string | null;
  stages: { stage: number; status: string }[];
  error: { code: string; stage: string; userSees: string; userCan: string; adminFix: string } | null;
}
const results = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Result & { status?: string })
    .filter((l) => l.type === 'result');

describe('tether provision --lab', () => {
  it('PIN sign-in of three models at once: three signed-in results after nine stages, with certificate and chain', async () => {
    const r = await run(['provision', '--virtual', 'CX600,HP4120,CX3000', '--lab', labDir, '--pin', CANARY_USER.extension, '--data', data, '--json'], { TETHER_PIN: CANARY_PIN });
    expect(r.code).toBe(0);
    const got = results(r.out);
    expect(got.map((x) => [x.serial, x.outcome]).sort()).toEqual([
      ['CX3000-V001', 'signed-in'],
      ['CX600-V001', 'signed-in'],
      ['HP4120-V001', 'signed-in'],
    ]);
    for (const x of got) {
      expect(x.stages.map((s) => s.stage)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(x.stages.every((s) => s.status === 'done' || s.status === 'skipped')).toBe(true);
      expect(x.certificatePem).toContain('BEGIN CERTIFICATE');
      expect(x.chainPem!.length).toBeGreaterThan(0);
      expect(x.sipUri).toBe(CANARY_USER.sipUri);
    }
    // Every stage event names its job and phone.
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; jobId?: string; serial?: string });
    expect(events.filter((e) => e.type === 'stage').every((e) => e.jobId && e.serial)).toBe(true);
  }, 120_000);

  it('a CX700 asked for a PIN fails at stage 7 with its entry; with Windows credentials it signs in', async () => {
    const pin = await run(['provision', '--virtual', 'CX700', '--lab', labDir, '--pin', CANARY_USER.extension, '--data', data, '--json'], { TETHER_PIN: CANARY_PIN });
    expect(pin.code).toBe(1);
    const [failed] = results(pin.out);
    expect(failed!.outcome).toBe('failed');
    expect(failed!.error).toMatchObject({ code: 'PHONE_PIN_UNSUPPORTED', stage: 'auth' });
    expect(failed!.error!.userCan).toMatch(/Windows/);
    const ntlm = await run(['provision', '--virtual', 'CX700', '--lab', labDir, '--ntlm', CANARY_USER.ntlm, '--sip', CANARY_USER.sipUri, '--data', data], { TETHER_PASSWORD: CANARY_PASSWORD });
    expect(ntlm.code).toBe(0);
    expect(ntlm.out).toContain('CX700-V001  signed in as sip:canary@contoso.test');
  }, 120_000);

  it('jobs lists them from the journal; history tells one phone\'s story', async () => {
    const jobs = await run(['jobs', '--data', data, '--json']);
    expect(jobs.code).toBe(0);
    const list = jobs.out.trim().split('\n').map((l) => JSON.parse(l) as { serial: string; state: string; error: string | null });
    expect(list.map((j) => [j.serial, j.state, j.error ?? '']).sort()).toEqual(
      [
        ['CX600-V001', 'signed-in', ''],
        ['HP4120-V001', 'signed-in', ''],
        ['CX3000-V001', 'signed-in', ''],
        ['CX700-V001', 'failed', 'PHONE_PIN_UNSUPPORTED'],
        ['CX700-V001', 'signed-in', ''],
      ].sort(),
    );
    const none = await run(['jobs', '--resume', '--lab', labDir, '--data', data]);
    expect(none.out).toContain('No unfinished jobs.');
    const history = await run(['history', 'CX700-V001', '--data', data]);
    expect(history.out).toMatch(/sign-in-failed +PHONE_PIN_UNSUPPORTED at stage 7/);
    expect(history.out).toMatch(/sign-in +sip:canary@contoso.test signed in \(internal\)/);
  }, 60_000);

  it('the canary PIN and password appear in no output and in no file under the data folder', async () => {
    const text = outputs.join('\n');
    for (const secret of [CANARY_PIN, CANARY_PASSWORD]) {
      expect(text.includes(secret)).toBe(false);
      expect(await filesHolding(data, secret)).toEqual([]);
    }
    expect((await filesUnder(data)).some((f) => f.endsWith('journal.sqlite'))).toBe(true);
  });
});

describe('provision arguments', () => {
  it('secrets never on argv; one way to name phones; --virtual needs a lab; --ntlm needs --sip', () => {
    expect(() => parseProvisionArgs(['--virtual', 'CX600', '--lab', '--pin', '101', '--password', 'x'])).toThrow(/never taken from the command line/);
    expect(() => parseProvisionArgs(['--virtual', 'CX600', '--all', '--lab', '--pin', '101'])).toThrow(/exactly one of/);
    expect(() => parseProvisionArgs(['--virtual', 'CX600', '--pin', '101'])).toThrow(/add --lab/);
    expect(() => parseProvisionArgs(['--all', '--ntlm', 'CONTOSO\\bob'])).toThrow(/needs --sip/);
    expect(() => parseProvisionArgs(['--all'])).toThrow(/--pin NUMBER or --ntlm/);
    expect(() => parseProvisionArgs(['--virtual', 'CX9', '--lab', '--pin', '1'])).toThrow(/Unknown phone model/);
    expect(parseProvisionArgs(['--virtual', 'CX600,CX600,HP4120', '--lab', '--pin', '101', '--external']).virtual.map((v) => v.serial)).toEqual(['CX600-V001', 'CX600-V002', 'HP4120-V001']);
  });
});
