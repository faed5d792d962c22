import { build as esbuild } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { build } from '../../scripts/build.mjs';

export const WORLD_BUNDLE = fileURLToPath(new URL('../../dist/e2e/world.mjs', import.meta.url));

/** The tests serve the built renderer (as the product does) and drive the bundled core. */
export default async function globalSetup(): Promise<void> {
  await build({ targets: ['renderer'], ifStale: true, quiet: true });
  await esbuild({
    entryPoints: [fileURLToPath(new URL('./world-entry.ts', import.meta.url))],
    outfile: WORLD_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}
