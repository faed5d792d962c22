// Builds what the product runs, so nothing is transpiled at run time:
//   cli       main/cli (with the browser host)  → dist/main/cli/index.mjs   (esbuild)
//   app       main/app (Electron main, entry main/cli/electron-main.ts) → dist/main/app/main.cjs
//             preload                             → dist/preload/index.cjs    (esbuild)
//   renderer  renderer/ (React + Fluent UI)       → dist/renderer/            (Vite)
// Dependencies stay in node_modules (not bundled into main), as npm installed them.
// Usage: node scripts/build.mjs [cli|app|renderer …] [--if-stale] [--quiet]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, STAMP, readStamp, staleTargets } from './stale.mjs';

export const TARGETS = ['cli', 'app', 'renderer'];

async function buildCli(esbuild) {
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { 'main/cli/index': 'main/cli/index.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

async function buildApp(esbuild) {
  const common = { absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: 'linked', logLevel: 'warning' };
  await esbuild.build({ ...common, entryPoints: { 'main/app/main': 'main/cli/electron-main.ts' }, outdir: 'dist', outExtension: { '.js': '.cjs' }, packages: 'external' });
  // A sandboxed preload may require only 'electron': everything else is bundled into it.
  await esbuild.build({ ...common, entryPoints: { 'preload/index': 'preload/index.ts' }, outdir: 'dist', outExtension: { '.js': '.cjs' }, external: ['electron'] });
}

async function buildRenderer() {
  const { build } = await import('vite');
  const { default: react } = await import('@vitejs/plugin-react');
  await build({
    configFile: false,
    root: join(ROOT, 'renderer'),
    base: './',
    publicDir: join(ROOT, 'assets'),
    plugins: [react()],
    logLevel: 'warn',
    build: {
      outDir: join(ROOT, 'dist', 'renderer'),
      emptyOutDir: true,
      // No inline script anywhere: the CSP allows scripts from the app's own files only.
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 2048,
      sourcemap: false,
    },
  });
}

/** Builds the given targets (or only the stale ones) and records when. Returns the targets built. */
export async function build({ targets = TARGETS, ifStale = false, quiet = false } = {}) {
  const todo = ifStale ? staleTargets(targets) : targets;
  if (todo.length === 0) return [];
  const startedAt = Date.now();
  if (!quiet) process.stderr.write(`Building ${todo.join(', ')} …\n`);
  const esbuild = todo.some((t) => t !== 'renderer') ? await import('esbuild') : null;
  for (const target of todo) {
    if (target === 'cli') await buildCli(esbuild);
    else if (target === 'app') await buildApp(esbuild);
    else if (target === 'renderer') await buildRenderer();
    else throw new Error(`unknown build target ${target}`);
  }
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const stamp = readStamp();
  // The time the build started: a source saved during the build counts as newer.
  for (const t of todo) stamp[t] = startedAt;
  writeFileSync(STAMP, JSON.stringify(stamp, null, 2) + '\n');
  if (!quiet) process.stderr.write(`Built ${todo.join(', ')} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.\n`);
  return todo;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const targets = args.filter((a) => !a.startsWith('--'));
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown build target ${t}; known: ${TARGETS.join(', ')}`);
  await build({ targets: targets.length ? targets : TARGETS, ifStale: args.includes('--if-stale'), quiet: args.includes('--quiet') });
}
