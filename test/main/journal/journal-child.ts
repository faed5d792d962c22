/**
 * A worker for the journal's process tests, run as its own Node process (node --import tsx):
 * `journal-child.ts DIR SEED [--wait-go] [--pause-ms N]`. It claims every unfinished job in the
 * journal at DIR, records each remaining stage with a payload that carries its own digest, marks
 * the job signed in and releases it, printing one line after each commit:
 *   ready PID | ack stage JOB STAGE ATTEMPT DIGEST | ack state JOB signed-in | done
 * The parent kills it at random moments and checks what the journal kept against these lines.
 */
import { createHash, randomBytes } from 'node:crypto';
import { STAGES } from '../../../common/stages';
import { Journal, processOwner } from '../../../main/journal';
import { seeded } from '../../support/seeded';

export function digestOf(jobId: string, stage: string, blob: string): string {
  return createHash('sha256').update(`${jobId}|${stage}|${blob}`).digest('hex').slice(0, 32);
}

async function main(argv: string[]): Promise<void> {
  const [dir, seedText] = argv;
  const waitGo = argv.includes('--wait-go');
  const pauseAt = argv.indexOf('--pause-ms');
  const pauseMs = pauseAt >= 0 ? Number(argv[pauseAt + 1]) : 0;
  const rand = seeded(Number(seedText));
  // Cheap to make, so the child spends its time in the journal's writes, where the kills should land.
  const hex = (n: number) => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const pause = () => (pauseMs > 0 ? new Promise((r) => setTimeout(r, pauseMs)) : Promise.resolve());

  say(`ready ${process.pid}`);
  if (waitGo) {
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
    process.stdin.destroy();
  }
  // Opened after "go", so processes started together also create and migrate a new journal together.
  const journal = await Journal.open({ dir: dir! });
  const me = processOwner();

  for (;;) {
    const open = journal.jobs({ unfinishedOnly: true });
    if (open.length === 0) break;
    let ran = 0;
    for (const { jobId } of open) {
      if (!journal.claim(jobId, me)) continue;
      const job = journal.job(jobId)!;
      ran++;
      journal.setJobState(jobId, 'running');
      const from = job.lastCompleted === null ? 0 : STAGES.findIndex((s) => s.id === job.lastCompleted) + 1;
      for (const { id } of STAGES.slice(from)) {
        // Sizes from a few bytes to several database pages, so a record can be torn across pages.
        const blob = hex(16 + Math.floor(rand() * 12_000));
        const digest = digestOf(jobId, id, blob);
        const startedAt = Date.now();
        journal.recordStage(jobId, { stage: id, status: 'done', facts: { blob, digest, pid: process.pid }, summary: `${id} done`, startedAt, endedAt: Date.now() });
        say(`ack stage ${jobId} ${id} ${job.attempts} ${digest}`);
        await pause();
      }
      journal.setJobState(jobId, 'signed-in');
      say(`ack state ${jobId} signed-in`);
      journal.release(jobId, me);
    }
    // Jobs held by another live process: wait for them to finish rather than run them too.
    if (ran === 0) await new Promise((r) => setTimeout(r, 20));
  }
  journal.close();
  say('done');
}

if (process.argv[1]?.endsWith('journal-child.ts')) {
  await main(process.argv.slice(2));
}
