import { build } from '../../scripts/build.mjs';

/** The tests serve the built renderer (as the product does): build it when its sources changed. */
export default async function globalSetup(): Promise<void> {
  await build({ targets: ['renderer'], ifStale: true, quiet: true });
}
