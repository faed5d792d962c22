import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder that holds `bin/tether.mjs`: the clone, or the installed app. Found by walking up from
 * this module, because the sources (main/cli/…) and the bundle (dist/main/cli/index.mjs) sit at
 * different depths and a fixed `../..` is right for only one of them.
 */
export function repoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    if (existsSync(join(dir, 'bin', 'tether.mjs'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('bin/tether.mjs not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** `bin/tether.mjs`, to start Tether's own CLI in a child process. */
export const tetherBin = (): string => join(repoRoot(), 'bin', 'tether.mjs');
