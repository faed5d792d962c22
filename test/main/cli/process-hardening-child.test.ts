import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processIO } from '../../../main/cli';
import { disableCoreDumps } from '../../../main/process-hardening';

// Its own file: processIO() switches core dumps off on its first call in a process, and that first
// call is the one under test here.
const dir = mkdtempSync(join(tmpdir(), 'tether-prlimit-'));
const saved = { PATH: process.env.PATH, TETHER_PASSWORD: process.env.TETHER_PASSWORD, TETHER_PIN: process.env.TETHER_PIN };
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(process.platform !== 'linux')('the core-dump step never hands the secrets to the program it runs', () => {
  it('a prlimit found on PATH sees neither TETHER_PASSWORD nor TETHER_PIN', () => {
    const seen = join(dir, 'seen');
    // A stand-in for whatever `prlimit` PATH finds: it records the secret variables it inherited.
    writeFileSync(join(dir, 'prlimit'), `#!/bin/sh\necho "\${TETHER_PASSWORD-none}/\${TETHER_PIN-none}" > '${seen}'\nexit 0\n`);
    chmodSync(join(dir, 'prlimit'), 0o700);
    process.env.PATH = `${dir}${delimiter}${saved.PATH ?? ''}`;
    process.env.TETHER_PASSWORD = 'Sentinel-Pass-2';
    process.env.TETHER_PIN = '86420';
    const io = processIO();
    expect(readFileSync(seen, 'utf8').trim()).toBe('none/none');
    expect(io.env.TETHER_PASSWORD).toBe('Sentinel-Pass-2');
  });

  it('with no prlimit on PATH, says so and goes on', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    process.env.PATH = empty;
    const outcome = disableCoreDumps({ platform: 'linux', writeFile: () => undefined });
    expect(outcome).toMatchObject({ noCoreFile: false, noMemoryInCore: true });
    expect(outcome.notes.join(' ')).toMatch(/prlimit .*missing/);
  });
});
