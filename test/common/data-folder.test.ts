import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertPrivatePath, ensurePrivateFolder, tetherDataFolder } from '../../common/data-folder';
import { TetherError } from '../../common/errors';

describe('tetherDataFolder', () => {
  it('follows XDG on Linux, %APPDATA% on Windows and Application Support on macOS', () => {
    expect(tetherDataFolder({}, 'linux', '/home/ann')).toBe('/home/ann/.local/share/tether');
    expect(tetherDataFolder({ XDG_DATA_HOME: '/data/ann' }, 'linux', '/home/ann')).toBe('/data/ann/tether');
    // The XDG spec says a relative path is invalid and must be ignored.
    expect(tetherDataFolder({ XDG_DATA_HOME: 'rel/dir' }, 'linux', '/home/ann')).toBe('/home/ann/.local/share/tether');
    expect(tetherDataFolder({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ann')).toBe('C:\\Users\\ann\\AppData\\Roaming\\Tether');
    expect(tetherDataFolder({}, 'win32', 'C:\\Users\\ann')).toBe('C:\\Users\\ann\\AppData\\Roaming\\Tether');
    expect(tetherDataFolder({}, 'darwin', '/Users/ann')).toBe('/Users/ann/Library/Application Support/Tether');
  });
});

describe.skipIf(process.platform === 'win32')('ensurePrivateFolder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tether-private-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const code = async (p: Promise<unknown>) => {
    const err = await p.then(() => null, (e: unknown) => e);
    return TetherError.is(err) ? err.code : err;
  };

  it('creates missing folders readable only by the user', async () => {
    const target = join(dir, 'a', 'b');
    await ensurePrivateFolder(target);
    expect((await stat(target)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'a'))).mode & 0o777).toBe(0o700);
    await ensurePrivateFolder(target); // idempotent
  });

  it('refuses a folder others can write, a file in its place and a foreign owner', async () => {
    const open = join(dir, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    expect(await code(ensurePrivateFolder(open))).toBe('FOLDER_NOT_PRIVATE');
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    expect(await code(ensurePrivateFolder(file))).toBe('FOLDER_NOT_PRIVATE');
    const mine = join(dir, 'mine');
    await ensurePrivateFolder(mine);
    expect(await code(assertPrivatePath(mine, 'folder', (process.getuid?.() ?? 0) + 1))).toBe('FOLDER_NOT_PRIVATE');
  });

  it('refuses a shared temp folder such as /tmp itself', async () => {
    // /tmp is world-writable (sticky): exactly where another account can plant files.
    expect(await code(ensurePrivateFolder(tmpdir()))).toBe('FOLDER_NOT_PRIVATE');
  });

  it('judges a symbolic link by its owner and its target', async () => {
    const open = join(dir, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    const link = join(dir, 'link');
    await symlink(open, link);
    expect(await code(ensurePrivateFolder(link))).toBe('FOLDER_NOT_PRIVATE');
  });

  it('says which parent it cannot create', async () => {
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    expect(await code(ensurePrivateFolder(join(file, 'below')))).toBe('FOLDER_UNWRITABLE');
  });
});
