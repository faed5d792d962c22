/**
 * Time for the virtual phone's link model. Transfers are paced against a "busy-until" timeline
 * (see link-model.ts) measured in this clock's milliseconds, so a late timer never costs bus time:
 * the next reservation starts at the timeline's end, not at the moment the timer fired.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional). */
  now(): number;
  /** Resolves once `now() >= deadlineMs`; resolves soon (not synchronously) if already past. */
  sleepUntil(deadlineMs: number): Promise<void>;
}

/** The process's monotonic clock. */
export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }

  sleepUntil(deadlineMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wait = (): void => {
        const remaining = deadlineMs - performance.now();
        // Never early: a caller woken early could start its next transfer before this one ended.
        // Lateness is forgiven by the bus timeline (BusTimeline.settled), not here.
        if (remaining <= 0) setImmediate(resolve);
        else setTimeout(wait, Math.ceil(remaining));
      };
      wait();
    });
  }
}

interface Waiter {
  readonly deadline: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * A clock for tests: time moves only through `advance`/`advanceTo`, or, with `autoAdvance`, jumps
 * to the earliest deadline whenever the event loop has nothing else queued (after pending
 * microtasks and one macrotask turn), so a pipelined exchange runs at full speed in virtual time.
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private waiters: Waiter[] = [];
  private pumping = false;
  private readonly autoAdvance: boolean;

  constructor(options: { startMs?: number; autoAdvance?: boolean } = {}) {
    this.t = options.startMs ?? 0;
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now(): number {
    return this.t;
  }

  /** Deadlines still waiting. */
  get pending(): number {
    return this.waiters.length;
  }

  sleepUntil(deadlineMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (deadlineMs <= this.t) {
        setImmediate(resolve);
        return;
      }
      this.insert({ deadline: deadlineMs, seq: this.seq++, resolve });
      if (this.autoAdvance) this.schedulePump();
    });
  }

  /** Moves time forward by `ms`, releasing every deadline on the way in order. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.t + ms);
  }

  async advanceTo(targetMs: number): Promise<void> {
    for (;;) {
      const next = this.waiters[0];
      if (!next || next.deadline > targetMs) break;
      this.releaseEarliest();
      await new Promise<void>((r) => setImmediate(r));
    }
    if (targetMs > this.t) this.t = targetMs;
  }

  private insert(w: Waiter): void {
    // Sorted by deadline, then arrival: equal deadlines release in the order they were asked for.
    let i = this.waiters.length;
    while (i > 0) {
      const prev = this.waiters[i - 1]!;
      if (prev.deadline <= w.deadline) break;
      i--;
    }
    this.waiters.splice(i, 0, w);
  }

  private releaseEarliest(): void {
    const first = this.waiters[0];
    if (!first) return;
    this.t = Math.max(this.t, first.deadline);
    while (this.waiters.length > 0 && this.waiters[0]!.deadline <= this.t) this.waiters.shift()!.resolve();
  }

  private schedulePump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const pump = (): void => {
      // Two macrotask turns: continuations of the last release (and their own setImmediate hops)
      // get to queue earlier deadlines before time jumps again.
      setImmediate(() =>
        setImmediate(() => {
          if (this.waiters.length === 0) {
            this.pumping = false;
            return;
          }
          this.releaseEarliest();
          pump();
        }),
      );
    };
    pump();
  }
}
