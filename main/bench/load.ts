import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * A competing CPU-bound load: one busy-loop process per core, as a desktop that is never idle
 * (a build, a video call, an antivirus scan). Each child stops by itself after `maxMs` even if this
 * process dies without cleaning up, and is killed as soon as the measured work ends.
 */
export interface CpuLoad {
  readonly processes: number;
  /** The children's process ids (for a check that stop() left none running). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** Spawns the load and resolves once every child runs. */
export async function startCpuLoad(maxMs: number, processes = availableParallelism()): Promise<CpuLoad> {
  const deadline = Math.max(1, Math.floor(maxMs));
  // Busy until the deadline; Date.now() in the loop keeps it from being optimised away.
  const script = `const end = Date.now() + ${deadline}; let n = 0; while (Date.now() < end) n++;`;
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  try {
    for (let i = 0; i < processes; i++) {
      const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    }
  } catch (err) {
    killAll();
    process.removeListener('exit', killAll);
    throw err;
  }
  return {
    processes,
    pids: children.map((c) => c.pid!),
    async stop() {
      const exited = children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()))));
      killAll();
      await Promise.all(exited);
      process.removeListener('exit', killAll);
    },
  };
}

/** Runs `work` with the load on; the load is stopped whatever happens. */
export async function underCpuLoad<T>(maxMs: number, work: (load: CpuLoad) => Promise<T>): Promise<T> {
  const load = await startCpuLoad(maxMs);
  try {
    return await work(load);
  } finally {
    await load.stop();
  }
}
