import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TetherError } from '../common/errors';

/**
 * Writes a file so that a reader (or a crash) sees either the old or the new content, never half:
 * write a temporary file beside it, flush it, then rename over the target.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
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
