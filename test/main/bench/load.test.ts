import { describe, expect, it } from 'vitest';
import { startCpuLoad, underCpuLoad } from '../../../main/bench/load';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the bench’s competing CPU load', () => {
  it('runs one busy process per requested core and leaves none behind', async () => {
    const load = await startCpuLoad(60_000, 2);
    expect(load.processes).toBe(2);
    expect(load.pids).toHaveLength(2);
    for (const pid of load.pids) expect(running(pid)).toBe(true);
    await load.stop();
    for (const pid of load.pids) expect(running(pid)).toBe(false);
    await load.stop(); // idempotent
  });

  it('stops the load when the measured work throws', async () => {
    let pids: readonly number[] = [];
    await expect(
      underCpuLoad(60_000, async (load) => {
        pids = load.pids;
        throw new Error('bench failed');
      }),
    ).rejects.toThrow('bench failed');
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) expect(running(pid)).toBe(false);
  });
});
