import type { TetherService } from '../../common/service/contract';
import { startWebHost } from '../web-host/server';

/** The service the window bench drives: a demo world with one phone and a firmware update waiting. */
export interface WindowBenchWorld {
  readonly service: TetherService;
  readonly serial: string;
  readonly extension: string;
  readonly pin: string;
  stop(): Promise<void>;
}

export interface WindowBenchOptions {
  readonly startWorld: (imageBytes: number) => Promise<WindowBenchWorld>;
  readonly rendererDir: string;
  readonly chromiumPath: string;
  readonly imageBytes: number;
  readonly onNote?: (text: string) => void;
}

export interface WindowBenchResult {
  /** First contentful paint of the window, from navigation start (ms). */
  readonly firstPaintMs: number;
  /** Input-to-paint delay during the firmware push: p99 and median (ms), and how many inputs. */
  readonly inputP99Ms: number;
  readonly inputMedianMs: number;
  readonly inputs: number;
  /** Messages reaching the renderer per second during the push, and progress updates the service emitted per second. */
  readonly framesPerSecond: number;
  readonly serviceProgressPerSecond: number;
  readonly pushSeconds: number;
}

const quantile = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

declare const window: { __tetherLatency: number[] } & Record<string, unknown>;
declare const document: { addEventListener(t: string, l: (e: { timeStamp: number }) => void, c: boolean): void };
declare const performance: { now(): number; getEntriesByName(n: string): { startTime: number }[] };
declare function requestAnimationFrame(cb: () => void): void;

/**
 * The window's responsiveness while the core pushes firmware, measured in Debian's Chromium against
 * the loopback host: the page signs a demo phone in, and during stage 4's push a key is pressed
 * every 20 ms; each press's delay until the frame after its handler ran is recorded in the page
 * (event timestamp → next animation frame → the task after it, i.e. the frame was produced).
 */
export async function measureWindow(options: WindowBenchOptions): Promise<WindowBenchResult> {
  const { chromium } = await import('@playwright/test');
  const world = await options.startWorld(options.imageBytes);
  const host = await startWebHost({ service: world.service, rendererDir: options.rendererDir });
  const browser = await chromium.launch({
    executablePath: options.chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    let frames = 0;
    page.on('websocket', (ws) => ws.on('framereceived', () => void frames++));
    let serviceProgress = 0;
    const off = world.service.on('progress', () => void serviceProgress++);

    await page.goto(host.url);
    await page.getByText(world.serial).first().waitFor();
    const firstPaintMs = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1);

    await page.getByLabel('Phone number or extension').fill(world.extension);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Yes, it matches' }).click();
    const pushing = page.locator('[data-stage="check-update"][data-status="progress"]');
    await pushing.waitFor({ timeout: 60_000 });
    options.onNote?.('window: measuring during the firmware push …');

    await page.evaluate(() => {
      window.__tetherLatency = [];
      document.addEventListener(
        'keydown',
        (e) => {
          const at = e.timeStamp;
          requestAnimationFrame(() => setTimeout(() => window.__tetherLatency.push(performance.now() - at), 0));
        },
        true,
      );
    });
    const framesBefore = frames;
    const progressBefore = serviceProgress;
    const startedAt = Date.now();
    // Until the bytes are all sent: the phone then restarts into the new image and shows a new
    // pairing code, while stage 4 stays open until it is back.
    const repairing = page.getByTestId('pairing-code');
    while ((await pushing.count()) > 0 && (await repairing.count()) === 0) {
      await page.keyboard.press('Shift');
      await new Promise((r) => setTimeout(r, 20));
    }
    const pushSeconds = (Date.now() - startedAt) / 1000;
    const latencies = await page.evaluate(() => window.__tetherLatency);
    off();
    return {
      firstPaintMs,
      inputP99Ms: quantile(latencies, 0.99),
      inputMedianMs: quantile(latencies, 0.5),
      inputs: latencies.length,
      framesPerSecond: (frames - framesBefore) / pushSeconds,
      serviceProgressPerSecond: (serviceProgress - progressBefore) / pushSeconds,
      pushSeconds,
    };
  } finally {
    await browser.close().catch(() => undefined);
    await host.close();
    await world.stop();
  }
}
