import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../../common/stages';
import { DatabaseSync } from 'node:sqlite';
import { Journal, JOURNAL_FILE, SCHEMA_VERSION } from '../../../main/journal';
import { userVersion } from '../../../main/journal/schema';
import { seeded } from '../../support/seeded';
import { digestOf } from './journal-child';

const ROOT = resolve(import.meta.dirname, '../../..');
// The project's pinned Node (it has node:sqlite), whatever Node runs the test runner.
const NODE = join(ROOT, 'node_modules/.bin/node');
const CHILD = join(ROOT, 'test/main/journal/journal-child.ts');

interface Child {
  readonly proc: ChildProcess;
  readonly lines: AsyncIterator<string>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(dir: string, seed: number, extra: string[] = []): Child {
  const proc = spawn(NODE, ['--import', 'tsx', CHILD, dir, String(seed), ...extra], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => proc.once('exit', (code, signal) => done({ code, signal })));
  return { proc, lines: createInterface({ input: proc.stdout! })[Symbol.asyncIterator](), exit };
}

async function nextLine(child: Child): Promise<string | null> {
  const r = await child.lines.next();
  return r.done === true ? null : (r.value as string);
}

interface Acked {
  readonly jobId: string;
  readonly stage: string;
  readonly attempt: number;
  readonly digest: string;
}

/** The journal as a fresh process finds it: sound, every acknowledged record whole, none torn. */
async function expectConsistent(dir: string, acked: ReadonlyMap<string, Acked>, finishedAcked: ReadonlySet<string>, why: string): Promise<void> {
  const journal = await Journal.open({ dir });
  try {
    expect(journal.integrityCheck(), why).toEqual(['ok']);
    for (const job of journal.jobs()) {
      // The child writes stages in order: what is there is a prefix of the nine, each intact.
      expect(
        job.stages.map((s) => s.stage),
        `${why}: ${job.jobId}`,
      ).toEqual(STAGES.slice(0, job.stages.length).map((s) => s.id));
      for (const s of job.stages) {
        const { blob, digest } = s.facts as { blob: string; digest: string };
        expect(digestOf(job.jobId, s.stage, blob), `${why}: torn ${job.jobId}/${s.stage}`).toBe(digest);
      }
      if (finishedAcked.has(job.jobId)) expect(job.state, `${why}: ${job.jobId}`).toBe('signed-in');
    }
    for (const a of acked.values()) {
      const record = journal.job(a.jobId)?.stages.find((s) => s.stage === a.stage);
      expect(record, `${why}: lost ${a.jobId}/${a.stage}`).toBeDefined();
      // Same digest and attempt: the acknowledged record is the one kept, and its stage never ran again.
      expect({ digest: (record!.facts as { digest: string }).digest, attempt: record!.attempt }, `${why}: ${a.jobId}/${a.stage}`).toEqual({
        digest: a.digest,
        attempt: a.attempt,
      });
    }
  } finally {
    journal.close();
  }
}

async function createJobs(dir: string, n: number, from = 0): Promise<string[]> {
  const journal = await Journal.open({ dir });
  const ids = Array.from({ length: n }, (_, i) => `job-crash-${String(from + i).padStart(4, '0')}`);
  for (const jobId of ids) journal.createJob({ jobId, spec: { serial: `CX600-${jobId.slice(-4)}`, kind: 'pin', user: '101' }, policy: {} });
  journal.close();
  return ids;
}

function recordAck(line: string, acked: Map<string, Acked>, finished: Set<string>): void {
  const [, what, jobId, stage, attempt, digest] = line.split(' ');
  if (what === 'stage') acked.set(`${jobId}/${stage}`, { jobId: jobId!, stage: stage!, attempt: Number(attempt), digest: digest! });
  if (what === 'state') finished.add(jobId!);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tether-journal-crash-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('journal under SIGKILL', () => {
  it('keeps every acknowledged stage record whole across ≥ 20 kills at random moments, and the jobs then finish', async () => {
    const seed = Number(process.env.TETHER_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`journal crash test seed ${seed} (TETHER_CRASH_SEED=${seed} repeats the kill points)`);
    const rand = seeded(seed);
    const dir = join(root, 'kills');
    const ids = await createJobs(dir, 64);
    const acked = new Map<string, Acked>();
    const finished = new Set<string>();
    let kills = 0;
    // Runs that ended some other way than by our kill, with how they ended: said if too few kills.
    const unkilled: string[] = [];
    for (let run = 0; kills < 24 && run < 120; run++) {
      // Keep work ahead of the child, however fast it runs between kills on this machine.
      if (ids.length * STAGES.length - acked.size < 200) ids.push(...(await createJobs(dir, 32, ids.length)));
      const child = startChild(dir, Math.floor(rand() * 2 ** 31));
      expect(await nextLine(child)).toMatch(/^ready \d+$/);
      // Kill after 1–4 acknowledged commits and then a random 0–2 ms while the child writes on. The
      // wait is spun, not a timer (whose 1 ms ticks would line the kills up with the child's prints),
      // so the kill lands anywhere in the child's loop, inside the journal's writes too.
      let left = 1 + Math.floor(rand() * 4);
      const spinMs = rand() * 2;
      for (let line = await nextLine(child); line !== null; line = await nextLine(child)) {
        if (line === 'done') break;
        recordAck(line, acked, finished);
        if (--left === 0) {
          for (const until = performance.now() + spinMs; performance.now() < until; );
          child.proc.kill('SIGKILL');
          break;
        }
      }
      const { code, signal } = await child.exit;
      // Lines the child printed before it died are acknowledgements too.
      for (let line = await nextLine(child); line !== null; line = await nextLine(child)) if (line !== 'done') recordAck(line, acked, finished);
      if (signal === 'SIGKILL') kills++;
      else unkilled.push(`run ${run}: exit ${code} ${signal ?? ''}`.trim());
      await expectConsistent(dir, acked, finished, `seed ${seed}, after run ${run}`);
    }
    console.log(`seed ${seed}: ${kills} kills, ${acked.size} of ${ids.length * STAGES.length} stage records acknowledged before the last run`);
    expect(kills, `seed ${seed}; runs not ended by the kill: ${unkilled.slice(0, 8).join(', ')}`).toBeGreaterThanOrEqual(20);

    const last = startChild(dir, 1);
    for (let line = await nextLine(last); line !== null; line = await nextLine(last)) if (line.startsWith('ack')) recordAck(line, acked, finished);
    expect((await last.exit).code).toBe(0);
    await expectConsistent(dir, acked, finished, `seed ${seed}, at the end`);
    const journal = await Journal.open({ dir });
    try {
      for (const jobId of ids) {
        const job = journal.job(jobId)!;
        expect(job.state, jobId).toBe('signed-in');
        expect(job.lastCompleted, jobId).toBe('logon');
        expect(job.owner, jobId).toBeNull();
      }
    } finally {
      journal.close();
    }
  }, 300_000);

  it('processes opening a new journal at once create and migrate it once', async () => {
    const dir = join(root, 'fresh');
    const children = [1, 2, 3].map((seed) => startChild(dir, seed, ['--wait-go']));
    for (const c of children) expect(await nextLine(c)).toMatch(/^ready \d+$/);
    for (const c of children) c.proc.stdin!.end('go\n');
    for (const c of children) {
      expect(await nextLine(c)).toBe('done');
      expect((await c.exit).code).toBe(0);
    }
    const journal = await Journal.open({ dir });
    try {
      expect(journal.integrityCheck()).toEqual(['ok']);
      expect(journal.jobs()).toEqual([]);
    } finally {
      journal.close();
    }
    const db = new DatabaseSync(join(dir, JOURNAL_FILE));
    expect(userVersion(db)).toBe(SCHEMA_VERSION);
    db.close();
  }, 60_000);

  it('two live processes never run the same job', async () => {
    const dir = join(root, 'two');
    const ids = await createJobs(dir, 8);
    const children = [startChild(dir, 11, ['--wait-go', '--pause-ms', '2']), startChild(dir, 12, ['--wait-go', '--pause-ms', '2'])];
    for (const c of children) expect(await nextLine(c)).toMatch(/^ready \d+$/);
    for (const c of children) c.proc.stdin!.end('go\n');
    const ranBy = new Map<string, Set<number>>();
    await Promise.all(
      children.map(async (c) => {
        for (let line = await nextLine(c); line !== null; line = await nextLine(c)) {
          const [, what, jobId] = line.split(' ');
          if (what === 'stage') ranBy.set(jobId!, (ranBy.get(jobId!) ?? new Set()).add(c.proc.pid!));
        }
        expect((await c.exit).code).toBe(0);
      }),
    );
    const journal = await Journal.open({ dir });
    try {
      for (const jobId of ids) {
        const job = journal.job(jobId)!;
        expect(job.state, jobId).toBe('signed-in');
        expect(job.attempts, jobId).toBe(1);
        expect(ranBy.get(jobId)?.size, jobId).toBe(1);
        expect(new Set(job.stages.map((s) => (s.facts as { pid: number }).pid)).size, jobId).toBe(1);
      }
    } finally {
      journal.close();
    }
    // Both took part (the work was shared), else the test would not have exercised a contested claim.
    expect(new Set([...ranBy.values()].flatMap((s) => [...s])).size).toBe(2);
  }, 120_000);
});
