import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JobView } from '../../common/service/contract';
import type { DemoService, DemoServiceOptions } from '../../main/cli/demo-service';
import type { WebHost } from '../../main/web-host/server';
import { WORLD_BUNDLE } from './global-setup';
import type * as WorldEntry from './world-entry';

type WorldModule = typeof WorldEntry;
const load = (): Promise<WorldModule> => import(WORLD_BUNDLE) as Promise<WorldModule>;

/**
 * The window end to end: the real service, virtual phones and the lab pool in this process
 * (main/cli/demo-service.ts), the loopback browser host serving the built renderer, and Debian's
 * Chromium driving it as a person would.
 */

export const RENDERER_DIR = fileURLToPath(new URL('../../dist/renderer', import.meta.url));
const SHOTS = fileURLToPath(new URL(process.env.TETHER_UPDATE_SCREENSHOTS ? '../../docs/screenshots/' : '../../test-results/screenshots/', import.meta.url));

export interface World {
  readonly demo: DemoService;
  readonly host: WebHost;
  readonly user: DemoService['users'][number];
  /** Every text frame the page sent and received on its WebSocket. */
  readonly wire: { sent: string[]; received: string[] };
  /** Console messages of CSP refusals (a style without the nonce, an inline script …). */
  readonly cspViolations: string[];
  card(serial: string): Locator;
  jobs(): Promise<readonly JobView[]>;
}

export const test = base.extend<{ world: (options?: DemoServiceOptions) => Promise<World> }>({
  world: async ({ page }, use) => {
    const started: { demo: DemoService; host: WebHost }[] = [];
    const { startDemoService, startWebHost } = await load();
    await use(async (options = {}) => {
      const demo = await startDemoService({ models: ['CX600'], autoConfirmPairing: false, ...options });
      const host = await startWebHost({ service: demo.service, rendererDir: RENDERER_DIR });
      started.push({ demo, host });
      const wire = { sent: [] as string[], received: [] as string[] };
      const cspViolations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
      });
      page.on('websocket', (ws) => {
        ws.on('framesent', (f) => void wire.sent.push(String(f.payload)));
        ws.on('framereceived', (f) => void wire.received.push(String(f.payload)));
      });
      await page.goto(host.url);
      return {
        demo,
        host,
        user: demo.users[0]!,
        wire,
        cspViolations,
        card: (serial) => page.locator(`[data-serial="${serial}"]`),
        jobs: () => demo.service.jobs({}),
      };
    });
    for (const { demo, host } of started.reverse()) {
      await host.close();
      await demo.stop();
    }
  },
});

export { expect };

/** Saves a screenshot of a main screen (into docs/screenshots/ with TETHER_UPDATE_SCREENSHOTS=1). */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true, animations: 'disabled', caret: 'hide' });
}

/**
 * No serious or critical axe violation. Fluent UI's focus-trap helpers (`data-tabster-dummy`) are
 * a known false positive of `aria-hidden-focus` (they are focusable on purpose and hidden on
 * purpose); only those nodes of only that rule are set aside.
 */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page: page as never }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const serious = results.violations
    .map((v) => ({ ...v, nodes: v.id === 'aria-hidden-focus' ? v.nodes.filter((n) => !n.html.includes('data-tabster-dummy')) : v.nodes }))
    .filter((v) => v.nodes.length > 0 && (v.impact === 'serious' || v.impact === 'critical'));
  expect(serious.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}

/** The digits of the code the virtual phone shows on its display. */
export function phoneDisplayDigits(demo: DemoService, serial: string): string {
  const device = demo.fleet.virtualPhones.find((d) => (d.serialNumber ?? d.host?.serial) === serial);
  return (device?.host?.phone.displayText ?? '').replace(/\D/g, '');
}

export interface DriveOptions {
  /** The PIN or password to type when asked. */
  readonly secret: string;
  /** Called once per screen reached, for screenshots and axe scans. */
  readonly onScreen?: (screen: 'pairing' | 'credentials' | 'pushing') => Promise<void>;
}

type Step = 'signed-in' | 'failed' | 'waiting';

/**
 * One look at a phone's card, and at most one answer: compares the pairing code with the phone's
 * display and says Yes, or types the secret when asked. One action at a time per page (Playwright
 * scrolls to what it clicks, so concurrent clicks on different cards could land on each other).
 */
async function step(world: World, serial: string, options: DriveOptions, seen: Set<string>): Promise<Step> {
  const card = world.card(serial);
  if (await card.getByTestId('signed-in').isVisible()) return 'signed-in';
  if (await card.getByTestId('failure').isVisible()) return 'failed';
  const code = card.getByTestId('pairing-code');
  if (await code.isVisible()) {
    const text = (await code.textContent())!;
    const shown = text.replace(/\D/g, '');
    expect(phoneDisplayDigits(world.demo, serial)).toContain(shown);
    if (!seen.has('pairing')) await options.onScreen?.('pairing');
    seen.add('pairing');
    await card.getByRole('button', { name: 'Yes, it matches' }).click();
    // This code goes away (a phone that restarts after its firmware update shows a new one).
    await expect(code.filter({ hasText: text })).toHaveCount(0);
    return 'waiting';
  }
  const secret = card.getByLabel(/^(PIN|Password) for/);
  if (await secret.isVisible()) {
    if (!seen.has('credentials')) await options.onScreen?.('credentials');
    seen.add('credentials');
    await secret.fill(options.secret);
    await card.getByRole('button', { name: 'Continue' }).click();
    await expect(secret).toBeHidden();
    return 'waiting';
  }
  // The push's figures (bytes, percent, time left) are on screen.
  if (!seen.has('pushing') && (await card.locator('[data-stage="check-update"]').getByTestId('progress-figures').isVisible())) {
    seen.add('pushing');
    await options.onScreen?.('pushing');
  }
  return 'waiting';
}

/** Answers one phone's prompts until its job ends; returns how it ended. */
export async function drive(page: Page, world: World, serial: string, options: DriveOptions): Promise<'signed-in' | 'failed'> {
  return (await driveAll(page, world, [serial], options))[0]!;
}

/** Answers several phones' prompts, whichever asks, until every job ends. */
export async function driveAll(page: Page, world: World, serials: readonly string[], options: DriveOptions): Promise<('signed-in' | 'failed')[]> {
  const seen = serials.map(() => new Set<string>());
  const outcome: Step[] = serials.map(() => 'waiting');
  // A hang guard far above a sign-in's few seconds (the test's own timeout is the real bound).
  for (let round = 0; round < 2000 && outcome.includes('waiting'); round++) {
    for (const [i, serial] of serials.entries()) {
      if (outcome[i] === 'waiting') outcome[i] = await step(world, serial, options, seen[i]!);
    }
    if (outcome.includes('waiting')) await page.waitForTimeout(50);
  }
  expect(outcome).not.toContain('waiting');
  return outcome as ('signed-in' | 'failed')[];
}
