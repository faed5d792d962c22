import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { FINAL_JOB_STATES, type SignInSpec } from '../../../common/service/contract';
import { Journal } from '../../../main/journal';
import type { JobOwner, JournalPort } from '../../../main/service/journal-port';
import { MemoryJournal } from '../../../main/service/memory-journal';

/**
 * The same claim rules over both journals: the service runs on either, so a rule that holds for
 * one must hold for the other (a finished job has no owner and is claimed by nobody).
 */

const SPEC: SignInSpec = { serial: 'CX600-0001', kind: 'pin', user: '101', network: 'internal' };
const A: JobOwner = { pid: 101, token: 'a' };
const B: JobOwner = { pid: 102, token: 'b' };

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

const journals: { name: string; open: () => Promise<JournalPort> }[] = [
  { name: 'MemoryJournal', open: async () => new MemoryJournal(() => 1_000) },
  {
    name: 'Journal (SQLite)',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tether-claim-'));
      // Both owners are live processes: a live owner keeps its job.
      const journal = await Journal.open({ dir: join(dir, 'data'), now: () => 1_000, isAlive: (pid) => pid === A.pid || pid === B.pid });
      cleanup = async () => {
        journal.close();
        await rm(dir, { recursive: true, force: true });
      };
      return journal;
    },
  },
];

describe.each(journals)('claim rules: $name', ({ open }) => {
  it('an owner keeps its job, a release hands it on, each new owner counts an attempt', async () => {
    const j = await open();
    j.createJob({ jobId: 'job-00000001', spec: SPEC, policy: {} });
    expect(j.claim('job-00000001', A)).toBe(true);
    expect(j.claim('job-00000001', A)).toBe(true);
    expect(j.job('job-00000001')!.attempts).toBe(1);
    expect(j.claim('job-00000001', B)).toBe(false);
    expect(j.release('job-00000001', B)).toBe(false);
    expect(j.release('job-00000001', A)).toBe(true);
    expect(j.claim('job-00000001', B)).toBe(true);
    expect(j.job('job-00000001')!.attempts).toBe(2);
  });

  it.each(FINAL_JOB_STATES)('a %s job is claimed by nobody, not even its owner', async (state) => {
    const j = await open();
    j.createJob({ jobId: 'job-00000001', spec: SPEC, policy: {} });
    expect(j.claim('job-00000001', A)).toBe(true);
    j.setJobState('job-00000001', state);
    expect(j.claim('job-00000001', A)).toBe(false);
    expect(j.claim('job-00000001', B)).toBe(false);
    // Finishing gave the job up: nothing left to release.
    expect(j.release('job-00000001', A)).toBe(false);
    expect(j.job('job-00000001')!.attempts).toBe(1);
    // Made runnable again (a retry queues it first), it can be claimed, as a new attempt.
    j.setJobState('job-00000001', 'queued');
    expect(j.claim('job-00000001', B)).toBe(true);
    expect(j.job('job-00000001')!.attempts).toBe(2);
  });

  it('an unknown job is a typed error', async () => {
    const j = await open();
    expect(() => j.claim('job-00000404', A)).toThrow(TetherError);
  });
});
