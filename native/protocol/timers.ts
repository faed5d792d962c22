import type { SessionTimers } from './api';

/** The process's real timers (the default). Timers are unref'd so a forgotten session never holds Node open. */
export const realTimers: SessionTimers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** A fake clock for tests: nothing fires until advance() moves time past it. */
export interface ManualTimers extends SessionTimers {
  /** Current fake time in ms (starts at 0). */
  readonly now: number;
  /** Moves time forward, firing due callbacks in time order (including ones they schedule). */
  advance(ms: number): void;
  /** Number of timers still scheduled. */
  readonly pending: number;
}

export function manualTimers(): ManualTimers {
  let now = 0;
  let nextId = 1;
  const due = new Map<number, { at: number; callback: () => void }>();
  return {
    get now() {
      return now;
    },
    get pending() {
      return due.size;
    },
    setTimeout(callback, ms) {
      const id = nextId++;
      due.set(id, { at: now + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout(handle) {
      if (typeof handle === 'number') due.delete(handle);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let first: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of due) if (entry[1].at <= end && (first === undefined || entry[1].at < first[1].at)) first = entry;
        if (first === undefined) break;
        due.delete(first[0]);
        now = first[1].at;
        first[1].callback();
      }
      now = end;
    },
  };
}
