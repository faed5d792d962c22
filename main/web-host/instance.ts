import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPrivateStats } from '../../common/data-folder';

/**
 * One browser host per user: the first `npm start` records its URL (with the token) in a file only
 * this user can read; a second one finds it, checks the host still answers, and reuses it instead
 * of starting another service on the same phones.
 *
 * Without XDG_RUNTIME_DIR the folder is under the shared temp folder, at a name anyone can guess:
 * a folder or record another account made there could send a second start (and the browser it
 * opens) to that account's page, which would then ask for the PIN. So a folder or record that is
 * not this user's alone is neither trusted nor written to.
 */

export interface InstanceRecord {
  readonly pid: number;
  readonly url: string;
}

export function instanceDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const base = env.XDG_RUNTIME_DIR ?? join(tmpdir(), `tether-${process.getuid?.() ?? 'user'}`);
  return join(base, 'tether');
}

const recordPath = (dir: string) => join(dir, 'web-host.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Does the recorded host still serve its page (the token matches, so it is that host and not a stranger on a reused port)? */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 1500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function isPrivateFolder(dir: string): boolean {
  try {
    assertPrivateStats(dir, lstatSync(dir), 'folder');
    return true;
  } catch {
    return false;
  }
}

/** The record's text, read through a handle that is judged private first (no link followed). */
function readPrivateRecord(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return null;
  }
  try {
    assertPrivateStats(path, fstatSync(fd), 'file');
    return readFileSync(fd, 'utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The running instance's record, if there is one that answers. */
export async function findRunningInstance(dir = instanceDir()): Promise<InstanceRecord | null> {
  if (!isPrivateFolder(dir)) return null;
  const text = readPrivateRecord(recordPath(dir));
  if (text === null) return null;
  let record: InstanceRecord;
  try {
    record = JSON.parse(text) as InstanceRecord;
  } catch {
    return null;
  }
  if (typeof record.pid !== 'number' || typeof record.url !== 'string' || !record.url.startsWith('http://127.0.0.1:')) return null;
  if (record.pid === process.pid || !alive(record.pid)) return null;
  return (await answers(record.url)) ? record : null;
}

/**
 * Records this process as the instance. `claimInstance` fails with EEXIST when another process
 * recorded itself since we looked; a stale record (its process gone) is replaced.
 * Returns a function that removes the record.
 */
export function claimInstance(record: InstanceRecord, dir = instanceDir()): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Another account's folder: not recorded (a second start then starts its own host).
  if (!isPrivateFolder(dir)) return () => undefined;
  const path = recordPath(dir);
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let stale = true;
    try {
      const other = JSON.parse(readFileSync(path, 'utf8')) as InstanceRecord;
      stale = typeof other.pid !== 'number' || !alive(other.pid);
    } catch {
      stale = true;
    }
    if (!stale) throw err;
    rmSync(path, { force: true });
    fd = openSync(path, 'wx', 0o600);
  }
  writeSync(fd, JSON.stringify(record));
  closeSync(fd);
  return () => {
    try {
      const now = JSON.parse(readFileSync(path, 'utf8')) as InstanceRecord;
      if (now.pid === record.pid) rmSync(path, { force: true });
    } catch {
      // Already gone.
    }
  };
}
