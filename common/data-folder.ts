import { lstat, mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';
import { TetherError } from './errors';

/**
 * Where Tether keeps its per-user data (the lab's default state, the journal, pinned host keys):
 * the platform's per-user application data folder, never a shared temporary path another local
 * account could prepare first.
 *   Linux (and other Unix): $XDG_DATA_HOME/tether, default ~/.local/share/tether (XDG Base Directory)
 *   Windows: %APPDATA%\Tether
 *   macOS: ~/Library/Application Support/Tether
 * A relative XDG_DATA_HOME is ignored, as the XDG spec says.
 */
export function tetherDataFolder(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') {
    const appData = env.APPDATA;
    return win32.join(appData !== undefined && win32.isAbsolute(appData) ? appData : win32.join(home, 'AppData', 'Roaming'), 'Tether');
  }
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', 'Tether');
  const xdg = env.XDG_DATA_HOME;
  return posix.join(xdg !== undefined && posix.isAbsolute(xdg) ? xdg : posix.join(home, '.local', 'share'), 'tether');
}

/** The current user's id, or undefined where the OS has none (Windows: per-user ACLs protect %APPDATA%). */
function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

function notPrivate(path: string, reason: string, message: string): TetherError {
  return new TetherError('FOLDER_NOT_PRIVATE', message, { detail: { path, reason } });
}

/**
 * Refuses a path another local account controls: owned by someone else, or writable by group or
 * others (they could replace what is inside). A symbolic link is judged by its own owner too, since
 * whoever owns the link can re-point it. No-op where there are no Unix owners (Windows).
 */
export async function assertPrivatePath(path: string, kind: 'folder' | 'file', uid = currentUid()): Promise<void> {
  if (uid === undefined) return;
  const link = await lstat(path);
  if (link.isSymbolicLink() && link.uid !== uid) {
    throw notPrivate(path, 'link-owner', `${path} is a symbolic link owned by another user (uid ${link.uid}); Tether will not follow it.`);
  }
  const st = link.isSymbolicLink() ? await stat(path) : link;
  if (kind === 'folder' ? !st.isDirectory() : !st.isFile()) {
    throw notPrivate(path, 'type', `${path} is not a ${kind}.`);
  }
  if (st.uid !== uid) {
    throw notPrivate(path, 'owner', `${path} belongs to another user (uid ${st.uid}, you are ${uid}); Tether will not trust what is in it.`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw notPrivate(path, 'mode', `${path} can be written by other users (mode ${(st.mode & 0o777).toString(8)}); Tether will not trust what is in it. Run chmod go-w on it.`);
  }
}

/**
 * Creates `path` (and its missing parents) readable only by the current user (0700), or checks an
 * existing one with assertPrivatePath. Throws FOLDER_NOT_PRIVATE or FOLDER_UNWRITABLE.
 */
export async function ensurePrivateFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') {
      throw new TetherError('FOLDER_UNWRITABLE', `Cannot create ${path} (${code ?? 'error'}).`, { detail: { path, errno: code ?? null }, cause });
    }
  }
  await assertPrivatePath(path, 'folder');
}
