// Is a build target older than its sources? Kept tiny and dependency-free: bin/tether.mjs runs it
// on every start, so it must cost a few milliseconds (a stat of each source file, no hashing).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const STAMP = join(ROOT, 'dist', 'build-stamp.json');

const SHARED = ['common', 'package.json', 'scripts/build.mjs'];
/** What each target is built from. */
export const TARGET_INPUTS = {
  cli: [...SHARED, 'main', 'native', 'lab'],
  app: [...SHARED, 'main', 'native', 'preload'],
  renderer: [...SHARED, 'renderer', 'assets'],
};

function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const t = newest(join(path, entry.name));
    if (t > max) max = t;
  }
  return max;
}

export function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return {};
  }
}

/** The targets whose sources changed since they were built (or that were never built). */
export function staleTargets(targets, stamp = readStamp()) {
  return targets.filter((t) => {
    const builtAt = stamp[t];
    if (typeof builtAt !== 'number') return true;
    return TARGET_INPUTS[t].some((p) => newest(join(ROOT, p)) > builtAt);
  });
}
