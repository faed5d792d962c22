import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../../main/fleet/queue';
import { Slots } from '../../../main/fleet/slots';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('JobQueue', () => {
  it('runs one job per phone and at most maxRunning at once; the rest wait in order', async () => {
    const q = new JobQueue(2);
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const job = (jobId: string, serial: string) => {
      gates.set(jobId, deferred());
      return { jobId, serial, run: () => (started.push(jobId), gates.get(jobId)!.promise) };
    };
    q.add(job('j1', 'A'));
    q.add(job('j2', 'B'));
    q.add(job('j3', 'C'));
    expect(() => q.add(job('j4', 'A'))).toThrow(expect.objectContaining({ code: 'JOB_BUSY' }));
    expect(started).toEqual(['j1', 'j2']);
    gates.get('j2')!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['j1', 'j2', 'j3']);
    gates.get('j1')!.resolve();
    gates.get('j3')!.resolve();
    await q.idle();
    expect(q.peak).toBe(2);
  });

  it('a waiting job can be taken out of line', () => {
    const q = new JobQueue(1);
    q.add({ jobId: 'j1', serial: 'A', run: () => new Promise(() => undefined) });
    q.add({ jobId: 'j2', serial: 'B', run: async () => undefined });
    expect(q.remove('j2')).toBe(true);
    expect(q.remove('j1')).toBe(false);
    expect(q.size).toEqual({ running: 1, waiting: 0 });
  });
});

describe('Slots', () => {
  it('bounds holders, hands a released slot to the next waiter, and lets a cancelled waiter leave', async () => {
    const s = new Slots(2);
    const never = new AbortController().signal;
    const r1 = await s.acquire(never);
    await s.acquire(never);
    const leaving = new AbortController();
    const third = s.acquire(leaving.signal);
    const fourth = s.acquire(never);
    leaving.abort();
    await expect(third).rejects.toMatchObject({ code: 'CANCELLED' });
    r1();
    r1(); // a second release is ignored
    await fourth;
    expect(s.inUse).toBe(2);
    expect(s.peak).toBe(2);
  });
});
