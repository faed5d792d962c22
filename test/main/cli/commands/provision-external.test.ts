import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../../lab';
import { main } from '../../../../main/cli';
import { tempDir } from '../../../lab/support';
import { captureIO as io } from '../capture-io';

/**
 * `tether provision --external` against a lab serving both views (as `tether lab --view both`
 * would): a virtual phone that never signed in inside is refused at stage 3 with its entry; after
 * one internal sign-in the same phone (its flash and the journal in the data folder) signs in from
 * outside through the edge names.
 */

let lab: LabHandle;
const tmp = tempDir('tether-provision-ext-');
const labDir = join(tmp.dir, 'lab');
const data = join(tmp.dir, 'data');

beforeAll(async () => {
  lab = await startLab({ stateDir: labDir, view: 'both' });
}, 60_000);
afterAll(async () => {
  await lab.stop();
  tmp.remove();
});

interface Result {
  type: string;
  outcome: string;
  stages: { stage: number; status: string; summary: string }[];
  error: { code: string; stage: string; userCan: string } | null;
}

async function provision(extra: string[]): Promise<{ code: number; result: Result }> {
  const user = lab.endpoints.users[0]!;
  const o = io({ TETHER_PIN: user.pin });
  const code = await main(['provision', '--virtual', 'CX600', '--lab', labDir, '--pin', user.phoneNumber, '--data', data, '--json', ...extra], o);
  const lines = o.out().trim().split('\n').map((l) => JSON.parse(l) as Result);
  return { code, result: lines.find((l) => l.type === 'result')! };
}

describe('tether provision --external --lab (view both)', () => {
  it('refuses a phone with no internal sign-in at stage 3, then signs it in from outside after one inside', async () => {
    const first = await provision(['--external']);
    expect(first.code).toBe(1);
    expect(first.result.outcome).toBe('failed');
    expect(first.result.error).toMatchObject({ code: 'EXTERNAL_NEEDS_INTERNAL_SIGN_IN', stage: 'find-update' });

    const inside = await provision([]);
    expect(inside.result.outcome).toBe('signed-in');

    const outside = await provision(['--external']);
    expect(outside.result.error).toBeNull();
    expect(outside.result.outcome).toBe('signed-in');
    expect(outside.result.stages.map((s) => s.stage)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(outside.result.stages[2]!.summary).toContain(new URL(lab.external!.httpsBase).hostname);
    expect(outside.result.stages[8]!.summary).toMatch(/signed in from outside/);
  }, 120_000);
});
