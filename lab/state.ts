import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TetherError } from '../common/errors';
import { processAlive } from '../common/process-alive';

/**
 * Writes a file so that a reader (or a crash) sees either the old or the new content, never half:
 * write a temporary file beside it, flush it, then rename over the target.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const handle = await open(tmp, 'w', mode);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** The name writeFileAtomic gives its temporary file: `<target>.<pid>.<8 hex>.tmp`. */
const TEMP_FILE_RE = /^.+\.([1-9][0-9]{0,9})\.[0-9a-f]{8}\.tmp$/;

/** A fresh temporary name beside `path` that removeStaleTempFiles recognises once its writer is gone. */
export function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** True when a process with this pid exists (EPERM: it exists but is not ours). */
export const processExists = processAlive;

/**
 * Removes the temporary files (tempPathFor) left in `dir` when their process died mid-write; with
 * `recursive`, in its subfolders too (symbolic links are not followed). Only names of that exact
 * form are touched, and only when their writer's pid no longer exists, so a second lab writing into
 * the same folder right now keeps its file. Returns the paths removed, relative to `dir`. A missing
 * folder has nothing to clean.
 */
export async function removeStaleTempFiles(
  dir: string,
  options: { recursive?: boolean; exists?: (pid: number) => boolean } = {},
): Promise<string[]> {
  const exists = options.exists ?? processExists;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) {
      if (options.recursive) {
        for (const below of await removeStaleTempFiles(join(dir, entry.name), options)) removed.push(join(entry.name, below));
      }
      continue;
    }
    const pid = Number(TEMP_FILE_RE.exec(entry.name)?.[1] ?? NaN);
    if (!entry.isFile() || !Number.isSafeInteger(pid) || pid === process.pid || exists(pid)) continue;
    try {
      await unlink(join(dir, entry.name));
      removed.push(entry.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return removed;
}

/** Reads a state file, or returns undefined when it does not exist yet. */
export async function readStateFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TetherError('LAB_STATE_CORRUPT', `Cannot read ${path}.`, { detail: { path }, cause: err });
  }
}

/** Parses a JSON state file, turning garbage into a typed error that names the file. */
export function parseStateJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new TetherError('LAB_STATE_CORRUPT', `${path} is not valid JSON.`, { detail: { path }, cause: err });
  }
}

/** Serialises writes to one file: each save waits for the one before it. */
export class SaveQueue {
  private chain: Promise<void> = Promise.resolve();

  run(write: () => Promise<void>): Promise<void> {
    const next = this.chain.then(write, write);
    // Keep the chain alive after a failed write; the caller of run() still sees the failure.
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every queued write has finished. */
  idle(): Promise<void> {
    return this.chain;
  }
}
