import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests of the window in a real browser: Debian's Chromium (apt package `chromium`,
 * installed by .ci/run) against the loopback browser host, driving the real service, virtual
 * phones and the lab pool in the test's process. One worker: each test runs a lab, a service and
 * a browser, and CI has two cores.
 */
export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '*.spec.ts',
  globalSetup: './test/e2e/global-setup.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // A hang guard far above a sign-in's few seconds here; no test asserts on time.
  timeout: 90_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 860 },
    launchOptions: {
      executablePath: process.env.TETHER_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});
