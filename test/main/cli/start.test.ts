import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../main/cli';
import { electronRuntime, openBrowser } from '../../../main/cli/window-runtime';
import { captureIO } from './capture-io';

describe('tether start', () => {
  it('refuses --demo with --no-demo as a usage error', async () => {
    const io = captureIO();
    expect(await main(['start', '--demo', '--no-demo'], io)).toBe(2);
    expect(io.err()).toContain('contradict');
  });

  describe('finding Electron’s runtime without loading it', () => {
    let root: string;
    afterEach(() => rm(root, { recursive: true, force: true }));
    const makeRoot = async () => {
      root = await mkdtemp(join(tmpdir(), 'tether-runtime-'));
      return root;
    };

    it('says why there is none: no package, no downloaded binary, a missing file', async () => {
      const r = await makeRoot();
      expect(electronRuntime(r, {})).toEqual({ missing: 'the electron package is not installed' });
      await mkdir(join(r, 'node_modules', 'electron'), { recursive: true });
      await writeFile(join(r, 'node_modules', 'electron', 'package.json'), '{}');
      expect(electronRuntime(r, {})).toMatchObject({ missing: expect.stringContaining('not downloaded') });
      await writeFile(join(r, 'node_modules', 'electron', 'path.txt'), 'electron');
      expect(electronRuntime(r, {})).toMatchObject({ missing: expect.stringContaining('missing') });
    });

    it('finds the binary its path.txt names', async () => {
      const r = await makeRoot();
      const pkg = join(r, 'node_modules', 'electron');
      await mkdir(join(pkg, 'dist'), { recursive: true });
      await writeFile(join(pkg, 'package.json'), '{}');
      await writeFile(join(pkg, 'path.txt'), 'electron');
      await writeFile(join(pkg, 'dist', 'electron'), '');
      expect(electronRuntime(r, {})).toEqual({ path: join(pkg, 'dist', 'electron') });
    });
  });

  it('opens no browser when asked not to, or on Linux with no display', () => {
    expect(openBrowser('http://127.0.0.1:1/', { TETHER_NO_BROWSER: '1', DISPLAY: ':0', PATH: '/usr/bin' })).toBeNull();
    if (process.platform === 'linux') expect(openBrowser('http://127.0.0.1:1/', { PATH: '/usr/bin:/bin' })).toBeNull();
  });
});
