import { vi } from 'vitest';

/**
 * For code that delays with setTimeout while real sockets carry the traffic: fake only setTimeout
 * and clearTimeout (I/O, setImmediate and Node's internal socket timers stay real), so a test sees
 * a delay as a timer it releases itself instead of as elapsed time.
 */
export function fakeTimeouts(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
}

/**
 * Resolves once `vi.getTimerCount()` is `count` (the code under test reached its timer). Polls on
 * real event-loop turns; if the count is never reached, the test's own timeout ends the wait.
 */
export async function untilTimerCount(count: number): Promise<void> {
  while (vi.getTimerCount() !== count) await new Promise<void>((r) => setImmediate(r));
}
