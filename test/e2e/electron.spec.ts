import { _electron as electron, expect, test } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { electronRuntime } from '../../main/cli/window-runtime';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const runtime = electronRuntime(ROOT);

test('Electron smoke: the sandboxed window opens on the demo and shows its phones', async () => {
  if ('missing' in runtime) {
    const reason = `No Electron runtime on this machine: ${runtime.missing}. The loopback browser host runs the same renderer in the other tests.`;
    // The list reporter shows a skip without its reason: say it on the test's output too.
    console.log(`Electron smoke test skipped. ${reason}`);
    test.skip(true, reason);
  }
  const { build } = await import('../../scripts/build.mjs');
  await build({ targets: ['app', 'renderer'], ifStale: true, quiet: true });
  const app = await electron.launch({ args: [`${ROOT}dist/main/app/main.cjs`, '--demo', '--no-sandbox'], env: { ...process.env, TETHER_NO_BROWSER: '1' } });
  try {
    const window = await app.firstWindow();
    await expect(window.getByText('Polycom CX600')).toBeVisible({ timeout: 30_000 });
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await window.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
  } finally {
    await app.close();
  }
});
