import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../../lab';
import { processExists, removeStaleTempFiles, writeFileAtomic } from '../../lab/state';
import { tempDir } from './support';

// Linux never hands out pids above 2^22 (pid_max's ceiling), so this writer is surely gone.
const DEAD_PID = 4_194_999;

let tmp: { dir: string; remove: () => void };
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.remove());

describe('stale temporary files of writeFileAtomic', () => {
  it('removes only <target>.<dead pid>.<8 hex>.tmp files, not live writers, look-alikes or folders', async () => {
    const dir = join(tmp.dir, 'unit');
    mkdirSync(dir);
    const stale = [`users-contoso.test.json.5524.d9fe6846.tmp`, `endpoints.json.${DEAD_PID}.0badc0de.tmp`];
    const kept = [
      `users-contoso.test.json.${process.pid}.00000000.tmp`, // this process is saving it right now
      'users-contoso.test.json.777.0123abcd.tmp', // pid 777 is alive (per the injected check)
      'notes.5524.d9fe6846.txt',
      'x.5524.D9FE6846.tmp', // upper-case hex is not a name we make
      'x.5524.d9fe68.tmp',
      '.5524.d9fe6846.tmp',
      'users-contoso.test.json',
    ];
    for (const name of [...stale, ...kept]) writeFileSync(join(dir, name), 'x');
    mkdirSync(join(dir, 'folder.5524.d9fe6846.tmp'));
    const removed = await removeStaleTempFiles(dir, { exists: (pid) => pid === 777 });
    expect(removed.sort()).toEqual([...stale].sort());
    expect(readdirSync(dir).sort()).toEqual([...kept, 'folder.5524.d9fe6846.tmp'].sort());
    expect(await removeStaleTempFiles(join(tmp.dir, 'no-such-folder'))).toEqual([]);
    // recursive: subfolders too, reported relative to the folder.
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'deeper', stale[1]!), 'x');
    expect(await removeStaleTempFiles(dir, { exists: (pid) => pid === 777 })).toEqual([]);
    expect(existsSync(join(dir, 'sub', 'deeper', stale[1]!))).toBe(true);
    expect((await removeStaleTempFiles(dir, { recursive: true, exists: (pid) => pid === 777 })).sort()).toEqual([join('sub', 'deeper', stale[1]!)]);
  });

  it('names its temporary files so that the clean-up recognises them', async () => {
    const dir = join(tmp.dir, 'pattern');
    const target = join(dir, 'state.json');
    await writeFileAtomic(target, '{}');
    // Simulate the crash: the same name a writer with a dead pid would have left.
    const leftover = `state.json.${DEAD_PID}.abcdef01.tmp`;
    writeFileSync(join(dir, leftover), '{"half');
    expect(processExists(DEAD_PID)).toBe(false);
    expect(processExists(process.pid)).toBe(true);
    expect(await removeStaleTempFiles(dir)).toEqual([leftover]);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('a starting lab cleans its state folder, ca/ and device-update/, and keeps the real files', async () => {
    const stateDir = join(tmp.dir, 'lab');
    const first = await startLab({ stateDir, services: [], publishEndpoints: false });
    const fingerprint = first.endpoints.ca.fingerprint;
    await first.stop();
    const leftovers = [
      join(stateDir, `users-contoso.test.json.${DEAD_PID}.d9fe6846.tmp`),
      join(stateDir, 'ca', `root-key.pem.${DEAD_PID}.00c0ffee.tmp`),
      join(stateDir, 'device-update', `store.json.${DEAD_PID}.12345678.tmp`),
      join(stateDir, 'device-update', 'files', 'UCPhone', 'Polycom', 'CX600', 'A', 'ENU', '4.0.1', 'CPE', `CPE.nbt.${DEAD_PID}.9abcdef0.tmp`),
    ];
    mkdirSync(join(stateDir, 'device-update', 'files', 'UCPhone', 'Polycom', 'CX600', 'A', 'ENU', '4.0.1', 'CPE'), { recursive: true });
    // Below the state folder's top, only device-update/ is searched: a look-alike elsewhere stays.
    mkdirSync(join(stateDir, 'elsewhere'));
    const elsewhere = join(stateDir, 'elsewhere', `x.json.${DEAD_PID}.12345678.tmp`);
    writeFileSync(elsewhere, 'x');
    for (const f of leftovers) writeFileSync(f, 'half a fi');
    const foreign = join(stateDir, 'mine.tmp');
    writeFileSync(foreign, 'not ours');
    const logs: string[] = [];
    const second = await startLab({ stateDir, services: [], publishEndpoints: false, log: (m) => logs.push(m) });
    try {
      for (const f of leftovers) expect(existsSync(f)).toBe(false);
      expect(existsSync(foreign)).toBe(true);
      expect(existsSync(elsewhere)).toBe(true);
      expect(second.endpoints.ca.fingerprint).toBe(fingerprint);
      expect(logs.filter((l) => l.startsWith('removed a stale temporary file'))).toHaveLength(4);
    } finally {
      await second.stop();
    }
  });
});

describe('unreadable state files', () => {
  it('a corrupt Device Update store.json stops the lab with LAB_STATE_CORRUPT naming the file, and is left in place', async () => {
    const stateDir = join(tmp.dir, 'corrupt-store');
    // 0700 whatever the umask: the lab starts only on a folder nobody else can write.
    mkdirSync(join(stateDir, 'device-update'), { recursive: true, mode: 0o700 });
    const file = join(stateDir, 'device-update', 'store.json');
    writeFileSync(file, '{"version":1,"images":');
    const err = await startLab({ stateDir, publishEndpoints: false }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'LAB_SERVICE_FAILED', detail: { service: 'device-update' } });
    expect((err as { cause?: unknown }).cause).toMatchObject({ code: 'LAB_STATE_CORRUPT', detail: { path: file } });
    expect(readFileSync(file, 'utf8')).toBe('{"version":1,"images":');
  });
});
