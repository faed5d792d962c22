import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDemoService } from '../../../main/cli/demo-service';
import { tempDir } from '../../lab/support';

/** A pid that certainly belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

let tmp: { dir: string; remove: () => void };
let savedTmp: string | undefined;
beforeEach(() => {
  tmp = tempDir('tether-sweep-');
  // os.tmpdir() reads TMPDIR on every call: the demo's temporary folders land in this test's folder.
  savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmp.dir;
});
afterEach(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  tmp.remove();
});

describe('a demo sweeps the temporary folders of demos that were killed', () => {
  it('removes a dead demo’s folder at start, keeps a live one’s and anything else, and removes its own on stop', async () => {
    const dead = join(tmp.dir, `tether-demo-${await deadPid()}-AbC123`);
    mkdirSync(join(dead, 'lab'), { recursive: true });
    writeFileSync(join(dead, 'lab', 'users-contoso.test.json'), '{}');
    const live = join(tmp.dir, `tether-demo-${process.pid}-XyZ789`);
    mkdirSync(live);
    const other = join(tmp.dir, 'tether-demo-notes');
    mkdirSync(other);

    const world = await startDemoService({ models: ['CX600'] });
    try {
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(existsSync(other)).toBe(true);
      // Its own folder carries its pid, so the next run can tell whether it is still in use.
      expect(readdirSync(tmp.dir).filter((n) => n.startsWith(`tether-demo-${process.pid}-`))).toHaveLength(2);
    } finally {
      await world.stop();
    }
    expect(readdirSync(tmp.dir).sort()).toEqual([`tether-demo-${process.pid}-XyZ789`, 'tether-demo-notes']);
  });
});

describe('sweepStaleTempFolders', () => {
  it('touches only its own kind’s folders of dead pids, never a file, a link or another name', async () => {
    const { sweepStaleTempFolders } = await import('../../../main/temp-folders');
    const { symlinkSync } = await import('node:fs');
    for (const n of ['tether-test-bootstrap-4242-aaaaaa', 'tether-test-bootstrap-4343-bbbbbb', 'tether-demo-4242-cccccc', 'tether-test-bootstrap-4242-x']) mkdirSync(join(tmp.dir, n));
    writeFileSync(join(tmp.dir, 'tether-test-bootstrap-4242-dddddd'), 'a file');
    symlinkSync(join(tmp.dir, 'tether-demo-4242-cccccc'), join(tmp.dir, 'tether-test-bootstrap-4242-eeeeee'));
    const removed = await sweepStaleTempFolders('test-bootstrap', { dir: tmp.dir, isAlive: (pid) => pid === 4343 });
    expect(removed).toEqual(['tether-test-bootstrap-4242-aaaaaa']);
    expect(readdirSync(tmp.dir).sort()).toEqual([
      'tether-demo-4242-cccccc',
      'tether-test-bootstrap-4242-dddddd',
      'tether-test-bootstrap-4242-eeeeee',
      'tether-test-bootstrap-4242-x',
      'tether-test-bootstrap-4343-bbbbbb',
    ]);
  });
});
