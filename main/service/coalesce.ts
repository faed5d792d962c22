import type { SessionTimers } from '../../native/protocol';

/**
 * Progress coalesced per key (a job): the first update goes out at once, later ones at most every
 * `intervalMs`, and only the latest of those waiting (a fast firmware push cannot flood a UI).
 */
export class Coalescer<T> {
  private readonly state = new Map<string, { last: number; pending: T | null; timer: unknown }>();

  constructor(
    private readonly emit: (value: T) => void,
    private readonly intervalMs: number,
    private readonly timers: SessionTimers,
    private readonly now: () => number,
  ) {}

  push(key: string, value: T): void {
    let s = this.state.get(key);
    if (!s) {
      s = { last: Number.NEGATIVE_INFINITY, pending: null, timer: null };
      this.state.set(key, s);
    }
    const at = this.now();
    if (s.timer === null && at - s.last >= this.intervalMs) {
      s.last = at;
      this.emit(value);
      return;
    }
    s.pending = value;
    if (s.timer !== null) return;
    const entry = s;
    entry.timer = this.timers.setTimeout(() => {
      entry.timer = null;
      const v = entry.pending;
      entry.pending = null;
      if (v === null) return;
      entry.last = this.now();
      this.emit(v);
    }, Math.max(0, entry.last + this.intervalMs - at));
  }

  /** Drops what waits for `key` (its stage ended: a late progress line would be out of order). */
  drop(key: string): void {
    const s = this.state.get(key);
    if (!s) return;
    if (s.timer !== null) this.timers.clearTimeout(s.timer);
    this.state.delete(key);
  }
}
