import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { processIO } from '../../../main/cli';

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['TETHER_PASSWORD', 'TETHER_PIN']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('the CLI process keeps secrets out of its environment and its core dumps', () => {
  it('reads TETHER_PASSWORD and TETHER_PIN once and deletes them from process.env', () => {
    process.env.TETHER_PASSWORD = 'Sentinel-Pass-1';
    process.env.TETHER_PIN = '97531';
    const io = processIO();
    expect(process.env.TETHER_PASSWORD).toBeUndefined();
    expect(process.env.TETHER_PIN).toBeUndefined();
    expect(io.env.TETHER_PASSWORD).toBe('Sentinel-Pass-1');
    expect(io.env.TETHER_PIN).toBe('97531');
    // Nothing this process starts inherits them.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.env.TETHER_PASSWORD)+String(process.env.TETHER_PIN))'], { encoding: 'utf8' });
    expect(child.stdout).toBe('undefinedundefined');
  });

  it.skipIf(process.platform !== 'linux')('on Linux: no anonymous memory in a core dump, and no core file at all where prlimit exists', () => {
    processIO();
    expect(Number.parseInt(readFileSync('/proc/self/coredump_filter', 'utf8'), 16)).toBe(0);
    const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
    if (hasPrlimit) expect(readFileSync('/proc/self/limits', 'utf8')).toMatch(/^Max core file size\s+0\s+0\s/m);
  });
});

describe('disableCoreDumps', () => {
  it('says what it could not do instead of failing', async () => {
    const { disableCoreDumps } = await import('../../../main/process-hardening');
    const mac = disableCoreDumps({ platform: 'darwin' });
    expect(mac).toMatchObject({ noCoreFile: false, noMemoryInCore: false });
    expect(mac.notes.join(' ')).toMatch(/darwin/);
    const noTools = disableCoreDumps({ platform: 'linux', run: () => null, writeFile: () => { throw new Error('EACCES'); } });
    expect(noTools).toMatchObject({ noCoreFile: false, noMemoryInCore: false });
    expect(noTools.notes).toHaveLength(2 + (noTools.reportWithoutEnv ? 0 : 1));
  });
});
