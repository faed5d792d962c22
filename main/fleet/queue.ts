import { TetherError } from '../../common/errors';

/**
 * The fleet's job queue: at most one job per phone (by serial), at most `maxRunning` at once (a
 * hub of 16 or 32 runs them all together), the rest wait in arrival order. Jobs do not share
 * anything here but a place in line, so one job that stalls never holds up another beyond its
 * own slot.
 */
export interface QueuedJob {
  readonly jobId: string;
  readonly serial: string;
  run(): Promise<void>;
}

export class JobQueue {
  private readonly waiting: QueuedJob[] = [];
  private readonly running = new Map<string, QueuedJob>();
  private readonly idleWaiters = new Set<() => void>();
  /** The most jobs ever run at once. */
  peak = 0;

  constructor(readonly maxRunning = 32) {
    if (!Number.isInteger(maxRunning) || maxRunning < 1) throw new TetherError('BAD_INPUT', `maxRunning must be a whole number ≥ 1, not ${maxRunning}.`);
  }

  /** The job queued or running for this phone, if any. */
  forSerial(serial: string): QueuedJob | undefined {
    return [...this.running.values(), ...this.waiting].find((j) => j.serial === serial);
  }

  has(jobId: string): boolean {
    return this.running.has(jobId) || this.waiting.some((j) => j.jobId === jobId);
  }

  /** Queues a job; JOB_BUSY when the phone already has one. */
  add(job: QueuedJob): void {
    const other = this.forSerial(job.serial);
    if (other) throw new TetherError('JOB_BUSY', `Phone ${job.serial} already has job ${other.jobId}.`, { detail: { serial: job.serial, jobId: other.jobId } });
    this.waiting.push(job);
    this.pump();
  }

  /** Takes a job out of line before it started; false when it is running or unknown. */
  remove(jobId: string): boolean {
    const at = this.waiting.findIndex((j) => j.jobId === jobId);
    if (at < 0) return false;
    this.waiting.splice(at, 1);
    this.settle();
    return true;
  }

  get size(): { running: number; waiting: number } {
    return { running: this.running.size, waiting: this.waiting.length };
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (this.running.size === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  private pump(): void {
    while (this.running.size < this.maxRunning && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      this.running.set(job.jobId, job);
      this.peak = Math.max(this.peak, this.running.size);
      // run() reports its own outcome; the queue only needs to know it ended.
      void job
        .run()
        .catch(() => undefined)
        .finally(() => {
          this.running.delete(job.jobId);
          this.pump();
          this.settle();
        });
    }
  }

  private settle(): void {
    if (this.running.size > 0 || this.waiting.length > 0) return;
    for (const w of [...this.idleWaiters]) w();
    this.idleWaiters.clear();
  }
}
