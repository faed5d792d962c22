import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimInstance, findRunningInstance } from '../../../main/web-host/instance';

/** A pid that existed and is gone (a finished child). */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('one browser host per user', () => {
  let dir: string;
  let server: Server | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tether-instance-'));
  });
  afterEach(async () => {
    server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records the running host in a file only this user can read, and removes it on release', async () => {
    const release = claimInstance({ pid: process.pid, url: 'http://127.0.0.1:1/?token=t' }, dir);
    const path = join(dir, 'web-host.json');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ pid: process.pid, url: 'http://127.0.0.1:1/?token=t' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    release();
    await expect(stat(path)).rejects.toThrow();
  });

  it('refuses a second live claim, and replaces a stale one', async () => {
    await writeFile(join(dir, 'web-host.json'), JSON.stringify({ pid: deadPid(), url: 'http://127.0.0.1:1/' }));
    const release = claimInstance({ pid: process.pid, url: 'http://127.0.0.1:2/?token=a' }, dir);
    await writeFile(join(dir, 'web-host.json'), JSON.stringify({ pid: process.ppid, url: 'http://127.0.0.1:3/' }));
    expect(() => claimInstance({ pid: process.pid, url: 'http://127.0.0.1:4/' }, dir)).toThrow(/EEXIST/);
    release();
  });

  it('reuses a recorded host only while it answers its URL (token included)', async () => {
    server = createServer((req, res) => res.writeHead(req.url === '/?token=good' ? 200 : 403).end());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    // The record names another live process (our parent) so it is not mistaken for ourselves.
    const record = (url: string) => writeFile(join(dir, 'web-host.json'), JSON.stringify({ pid: process.ppid, url }));
    await record(`http://127.0.0.1:${port}/?token=good`);
    expect(await findRunningInstance(dir)).toEqual({ pid: process.ppid, url: `http://127.0.0.1:${port}/?token=good` });
    await record(`http://127.0.0.1:${port}/?token=stale`);
    expect(await findRunningInstance(dir)).toBeNull();
    await writeFile(join(dir, 'web-host.json'), JSON.stringify({ pid: deadPid(), url: `http://127.0.0.1:${port}/?token=good` }));
    expect(await findRunningInstance(dir)).toBeNull();
    await record('http://evil.example/?token=good');
    expect(await findRunningInstance(dir)).toBeNull();
  });

  // Without XDG_RUNTIME_DIR the folder sits in the shared temp folder at a guessable name: a record
  // planted there by another account would send the second start (and its browser) to its page.
  it.skipIf(process.platform === 'win32')('trusts and writes a record only in a folder, and from a file, that only this user can write', async () => {
    server = createServer((_req, res) => res.writeHead(200).end());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/?token=good`;
    const path = join(dir, 'web-host.json');
    await writeFile(path, JSON.stringify({ pid: process.ppid, url }), { mode: 0o600 });
    expect(await findRunningInstance(dir)).not.toBeNull();

    await chmod(path, 0o666);
    expect(await findRunningInstance(dir)).toBeNull();
    await chmod(path, 0o600);
    await chmod(dir, 0o777);
    expect(await findRunningInstance(dir)).toBeNull();
    // Nor is this host recorded there.
    await rm(path);
    claimInstance({ pid: process.pid, url: 'http://127.0.0.1:2/?token=a' }, dir)();
    claimInstance({ pid: process.pid, url: 'http://127.0.0.1:2/?token=a' }, dir);
    await expect(stat(path)).rejects.toThrow();
    await chmod(dir, 0o700);

    // A record that is a link to a file elsewhere is not followed.
    const elsewhere = join(dir, 'elsewhere.json');
    await writeFile(elsewhere, JSON.stringify({ pid: process.ppid, url }), { mode: 0o600 });
    await symlink(elsewhere, path);
    expect(await findRunningInstance(dir)).toBeNull();
  });
});
