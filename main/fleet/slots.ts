import { TetherError } from '../../common/errors';
import type { PoolSlots } from '../bootstrap/stages/types';

/**
 * A counting semaphore with a FIFO of waiters: bounded concurrency toward the pool. A waiter whose
 * job is cancelled leaves the line at once; a release hands the slot straight to the next waiter.
 */
export class Slots implements PoolSlots {
  private free: number;
  private readonly waiting: { grant: () => void; signal: AbortSignal }[] = [];
  /** The most slots ever held at once (the bench and tests read it). */
  peak = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new TetherError('BAD_INPUT', `A slot count must be a whole number ≥ 1, not ${size}.`);
    this.free = size;
  }

  get inUse(): number {
    return this.size - this.free;
  }

  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new TetherError('CANCELLED', 'The sign-in was cancelled.'));
    if (this.free > 0) {
      this.free--;
      this.peak = Math.max(this.peak, this.inUse);
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        signal,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.peak = Math.max(this.peak, this.inUse);
          resolve(this.releaser());
        },
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new TetherError('CANCELLED', 'The sign-in was cancelled.'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line, so `free` only grows when nobody waits.
      if (next) next.grant();
      else this.free++;
    };
  }
}
