#!/usr/bin/env node
// Runs the built CLI (dist/main/cli/index.mjs). When its sources are newer than the build, or it was
// never built (a fresh clone), it builds first; when it cannot build (no esbuild: an install without
// dev dependencies), it runs the TypeScript sources through tsx instead.
import module from 'node:module';
import { staleTargets } from '../scripts/stale.mjs';

// Node 22.1+ keeps V8's compiled code of the bundle and its dependencies on disk between runs
// (in the OS temp folder), which roughly halves the cold start; older Node lacks it and skips this.
module.enableCompileCache?.();

let cli;
if (staleTargets(['cli']).length > 0) {
  try {
    const { build } = await import('../scripts/build.mjs');
    await build({ targets: ['cli'], quiet: true });
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    const { register } = await import('tsx/esm/api');
    register();
    cli = await import('../main/cli/index.ts');
  }
}
cli ??= await import('../dist/main/cli/index.mjs');
process.exitCode = await cli.main(process.argv.slice(2));
