import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import type { SignInSpec } from '../../../common/service/contract';
import { Journal, JOURNAL_FILE, type JobOwner, type StageRecordInput } from '../../../main/journal';

const SPEC: SignInSpec = { serial: 'CX600-0001', kind: 'pin', user: '101', network: 'internal' };

function stage(over: Partial<StageRecordInput> & Pick<StageRecordInput, 'stage'>): StageRecordInput {
  return { status: 'done', facts: {}, summary: `${over.stage} done`, startedAt: 10, endedAt: 20, ...over };
}

let dir: string;
let clock: number;
let alive: Set<number>;
let journal: Journal;
const open = () => Journal.open({ dir, now: () => clock, isAlive: (pid) => alive.has(pid) });

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'tether-journal-')), 'data');
  clock = 1_000;
  alive = new Set();
  journal = await open();
});
afterEach(async () => {
  journal.close();
  await rm(join(dir, '..'), { recursive: true, force: true });
});

describe('Journal files', () => {
  it('keeps one private file in WAL mode inside a private data folder', async () => {
    expect(journal.path).toBe(join(dir, JOURNAL_FILE));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(journal.path)).mode & 0o777).toBe(0o600);
    journal.createJob({ jobId: 'job-00000000', spec: SPEC, policy: {} });
    // SQLite gives its WAL and shared-memory files the database file's mode.
    for (const side of ['-wal', '-shm']) expect((await stat(journal.path + side)).mode & 0o777, side).toBe(0o600);
    expect(journal.integrityCheck()).toEqual(['ok']);
  });

  it('names the fix when this Node has no node:sqlite, before touching the disk', async () => {
    const elsewhere = join(dir, '..', 'never');
    const err = await Journal.open({ dir: elsewhere, sqlite: () => undefined }).catch((e: unknown) => e);
    expect(TetherError.is(err, 'JOURNAL_UNAVAILABLE')).toBe(true);
    expect((err as TetherError).message).toMatch(/Node 22\.13 or later/);
    await expect(stat(elsewhere)).rejects.toThrow();
  });
});

describe('jobs and stages', () => {
  it('creates a job, records stages and merges their facts in stage order', () => {
    const created = journal.createJob({ jobId: 'job-00000001', spec: SPEC, policy: { firmware: 'offered' } });
    expect(created.state).toBe('queued');
    expect(created.lastCompleted).toBeNull();
    journal.recordStage('job-00000001', stage({ stage: 'ip', facts: { ip: '10.0.0.5', shared: 'ip' } }));
    journal.recordStage('job-00000001', stage({ stage: 'vlan', status: 'skipped', reason: 'no LLDP-MED on this network', facts: { shared: 'vlan' } }));
    journal.recordStage('job-00000001', stage({ stage: 'check-update', facts: { late: true } }));
    const job = journal.job('job-00000001')!;
    expect(job.stages.map((s) => s.stage)).toEqual(['vlan', 'ip', 'check-update']);
    expect(job.stages[0]!.reason).toBe('no LLDP-MED on this network');
    // find-update is missing, so the resume point is after ip and check-update's facts wait.
    expect(job.lastCompleted).toBe('ip');
    expect(job.facts).toEqual({ ip: '10.0.0.5', shared: 'ip' });
  });

  it('a failed stage stops the resume point; a retried stage replaces its record', () => {
    journal.createJob({ jobId: 'job-00000002', spec: SPEC, policy: {} });
    journal.recordStage('job-00000002', stage({ stage: 'vlan' }));
    const error = new TetherError('TIMEOUT', 'no DHCP answer', { stage: 'ip' }).toJSON();
    journal.recordStage('job-00000002', stage({ stage: 'ip', status: 'failed', summary: 'no address', error }));
    journal.setJobState('job-00000002', 'failed', error);
    let job = journal.job('job-00000002')!;
    expect(job.lastCompleted).toBe('vlan');
    expect(job.state).toBe('failed');
    expect(job.error).toEqual(error);
    expect(job.stages[1]!.error).toEqual(error);
    journal.recordStage('job-00000002', stage({ stage: 'ip', facts: { ip: '10.0.0.9' } }));
    journal.setJobState('job-00000002', 'running');
    job = journal.job('job-00000002')!;
    expect(job.lastCompleted).toBe('ip');
    expect(job.stages).toHaveLength(2);
    expect(job.error).toBeNull();
  });

  it('refuses unknown jobs, duplicate ids and malformed input with typed errors', () => {
    journal.createJob({ jobId: 'job-00000003', spec: SPEC, policy: {} });
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as TetherError).code;
      }
      return 'no error';
    };
    expect(codeOf(() => journal.createJob({ jobId: 'job-00000003', spec: SPEC, policy: {} }))).toBe('JOURNAL_CONFLICT');
    expect(codeOf(() => journal.recordStage('job-nothere1', stage({ stage: 'vlan' })))).toBe('JOURNAL_NOT_FOUND');
    expect(codeOf(() => journal.setJobState('job-nothere1', 'running'))).toBe('JOURNAL_NOT_FOUND');
    expect(codeOf(() => journal.recordStage('job-00000003', stage({ stage: 'warp' as never })))).toBe('BAD_INPUT');
    expect(codeOf(() => journal.recordStage('job-00000003', stage({ stage: 'vlan', status: 'started' as never })))).toBe('BAD_INPUT');
    expect(codeOf(() => journal.createJob({ jobId: 'bad id!', spec: SPEC, policy: {} }))).toBe('BAD_INPUT');
    expect(journal.job('job-00000003')!.stages).toEqual([]);
  });

  it('lists jobs oldest first, unfinished only or by serial, and survives reopening', async () => {
    for (const [i, serial] of ['A1', 'B2', 'A1'].entries()) {
      clock += 1;
      journal.createJob({ jobId: `job-0000010${i}`, spec: { ...SPEC, serial }, policy: {} });
    }
    journal.setJobState('job-00000100', 'signed-in');
    journal.close();
    journal = await open();
    expect(journal.jobs().map((j) => j.jobId)).toEqual(['job-00000100', 'job-00000101', 'job-00000102']);
    expect(journal.jobs({ unfinishedOnly: true }).map((j) => j.jobId)).toEqual(['job-00000101', 'job-00000102']);
    expect(journal.jobs({ serial: 'A1', unfinishedOnly: true }).map((j) => j.jobId)).toEqual(['job-00000102']);
  });
});

describe('claims', () => {
  const me: JobOwner = { pid: 100, token: 'a' };
  const other: JobOwner = { pid: 200, token: 'b' };

  it('lets one live owner run a job, takes over from a dead one, and counts attempts', () => {
    journal.createJob({ jobId: 'job-00000200', spec: SPEC, policy: {} });
    alive = new Set([100, 200]);
    expect(journal.claim('job-00000200', me)).toBe(true);
    expect(journal.claim('job-00000200', me)).toBe(true);
    expect(journal.claim('job-00000200', other)).toBe(false);
    expect(journal.release('job-00000200', other)).toBe(false);
    expect(journal.job('job-00000200')!.attempts).toBe(1);
    alive.delete(100);
    expect(journal.claim('job-00000200', other)).toBe(true);
    const job = journal.job('job-00000200')!;
    expect(job.owner).toEqual(other);
    expect(job.attempts).toBe(2);
    // The stage records carry the attempt that wrote them.
    journal.recordStage('job-00000200', stage({ stage: 'vlan' }));
    expect(journal.job('job-00000200')!.stages[0]!.attempt).toBe(2);
    expect(journal.release('job-00000200', other)).toBe(true);
    expect(journal.job('job-00000200')!.owner).toBeNull();
    expect(journal.claim('job-00000200', me)).toBe(true);
  });

  it('the same pid with another start token is another owner', () => {
    journal.createJob({ jobId: 'job-00000201', spec: SPEC, policy: {} });
    alive = new Set([100]);
    expect(journal.claim('job-00000201', me)).toBe(true);
    expect(journal.claim('job-00000201', { pid: 100, token: 'restarted' })).toBe(false);
  });
});

describe('claims of finished jobs', () => {
  it('are refused until the job is queued again (a retry)', () => {
    const owner: JobOwner = { pid: 300, token: 'c' };
    alive = new Set([300]);
    journal.createJob({ jobId: 'job-00000300', spec: SPEC, policy: {} });
    expect(journal.claim('job-00000300', owner)).toBe(true);
    journal.setJobState('job-00000300', 'failed', new TetherError('TIMEOUT').toJSON());
    // The final state ended the claim.
    expect(journal.job('job-00000300')!.owner).toBeNull();
    expect(journal.claim('job-00000300', owner)).toBe(false);
    journal.setJobState('job-00000300', 'queued');
    expect(journal.claim('job-00000300', owner)).toBe(true);
    expect(journal.job('job-00000300')!.attempts).toBe(2);
  });
});

describe('a journal locked by another process', () => {
  it('is JOURNAL_BUSY once the wait runs out, and nothing is written', async () => {
    const impatient = await Journal.open({ dir, now: () => clock, busyTimeoutMs: 0 });
    const other = new DatabaseSync(join(dir, JOURNAL_FILE));
    try {
      other.exec('BEGIN IMMEDIATE');
      expect(() => impatient.createJob({ jobId: 'job-00000400', spec: SPEC, policy: {} })).toThrow(expect.objectContaining({ code: 'JOURNAL_BUSY' }));
      other.exec('ROLLBACK');
      expect(impatient.job('job-00000400')).toBeNull();
      impatient.createJob({ jobId: 'job-00000400', spec: SPEC, policy: {} });
    } finally {
      other.close();
      impatient.close();
    }
  });
});

describe('atomically', () => {
  it('keeps several calls together or none of them', () => {
    journal.seenDevice({ serial: 'CX600-0001', modelId: 'CX600', firmware: null });
    journal.createJob({ jobId: 'job-00000500', spec: SPEC, policy: {} });
    const finish = (auditDetail: Record<string, string>) =>
      journal.atomically(() => {
        journal.setJobState('job-00000500', 'signed-in');
        journal.markSignedIn({ serial: 'CX600-0001', network: 'internal', facts: { edge: 'sip.contoso.com' } });
        journal.audit({ kind: 'sign-in', serial: 'CX600-0001', jobId: 'job-00000500', summary: 'signed in', detail: auditDetail });
      });
    // The audit entry is refused (a secret-named field), so the state and the sign-in mark go too.
    expect(() => finish({ password: 'x' })).toThrow(expect.objectContaining({ code: 'JOURNAL_SECRET_REFUSED' }));
    expect(journal.job('job-00000500')!.state).toBe('queued');
    expect(journal.device('CX600-0001')!.signedInInternally).toBe(false);
    expect(journal.auditTrail()).toEqual([]);
    finish({ network: 'internal' });
    expect(journal.job('job-00000500')!.state).toBe('signed-in');
    expect(journal.device('CX600-0001')!.signedInInternally).toBe(true);
    expect(journal.history('CX600-0001')).toHaveLength(1);
  });

  it('refuses an async function rather than hold the write lock across an await', () => {
    expect(() => journal.atomically(async () => undefined)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => journal.createJob({ jobId: 'job-00000501', spec: SPEC, policy: {} })).not.toThrow();
  });
});
