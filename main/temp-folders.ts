import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../common/process-alive';

/**
 * Temporary folders of a run (the demo's lab, test-bootstrap's downloads) are named
 * `tether-<kind>-<pid>-<6 random>`, so a later run can tell a folder whose process was killed
 * (SIGKILL runs no clean-up) from one still in use, and sweep it at start.
 */
export type TempKind = 'demo' | 'test-bootstrap';

export function makeTempFolder(kind: TempKind, dir: string = tmpdir()): Promise<string> {
  return mkdtemp(join(dir, `tether-${kind}-${process.pid}-`));
}

export interface SweepOptions {
  /** Where to look (default the OS temporary folder). */
  readonly dir?: string;
  readonly isAlive?: (pid: number) => boolean;
}

/**
 * Removes `tether-<kind>-<pid>-XXXXXX` folders whose process is gone. Only folders of exactly that
 * form, owned by the current user and not symbolic links, are touched; a live (or reused) pid keeps
 * its folder. Returns the names removed. Never throws: a sweep must not stop the run it precedes.
 */
export async function sweepStaleTempFolders(kind: TempKind, options: SweepOptions = {}): Promise<string[]> {
  const dir = options.dir ?? tmpdir();
  const isAlive = options.isAlive ?? processAlive;
  const pattern = new RegExp(`^tether-${kind}-([1-9][0-9]{0,9})-[A-Za-z0-9]{6}$`);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const removed: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    if (!Number.isSafeInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    const path = join(dir, name);
    const st = await lstat(path).catch(() => null);
    if (!st?.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
    try {
      await rm(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Another sweeper or a permission problem: leave it for the next run.
    }
  }
  return removed;
}
