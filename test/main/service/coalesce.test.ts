import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../../main/service/coalesce';

/** A fake clock whose timers fire only when the test advances it. */
function fakeClock() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  return {
    now: () => now,
    timers: {
      setTimeout: (fn: () => void, ms: number) => {
        const id = next++;
        timers.set(id, { at: now + ms, fn });
        return id;
      },
      clearTimeout: (id: unknown) => void timers.delete(id as number),
    },
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
  };
}

describe('progress coalescing', () => {
  it('sends the first at once, then at most one per interval per job, the latest winning', () => {
    const clock = fakeClock();
    const out: string[] = [];
    const c = new Coalescer<string>((v) => out.push(v), 250, clock.timers, clock.now);
    c.push('job-a', 'a0');
    for (let i = 1; i <= 100; i++) {
      clock.advance(10);
      c.push('job-a', `a${i}`);
    }
    clock.advance(1000);
    // 1000 ms of pushes every 10 ms: the first, then one per 250 ms window.
    expect(out[0]).toBe('a0');
    expect(out.length).toBeLessThanOrEqual(1 + 1000 / 250 + 1);
    expect(out.at(-1)).toBe('a100');
  });

  it('keeps jobs apart: a chatty job does not swallow another job\'s update', () => {
    const clock = fakeClock();
    const out: string[] = [];
    const c = new Coalescer<string>((v) => out.push(v), 250, clock.timers, clock.now);
    c.push('a', 'a1');
    c.push('a', 'a2');
    c.push('b', 'b1');
    clock.advance(250);
    expect(out).toEqual(['a1', 'b1', 'a2']);
  });

  it('drop() forgets what waits (the stage ended)', () => {
    const clock = fakeClock();
    const out: string[] = [];
    const c = new Coalescer<string>((v) => out.push(v), 250, clock.timers, clock.now);
    c.push('a', 'a1');
    c.push('a', 'a2');
    c.drop('a');
    clock.advance(1000);
    expect(out).toEqual(['a1']);
    c.push('a', 'a3');
    expect(out).toEqual(['a1', 'a3']);
  });
});
