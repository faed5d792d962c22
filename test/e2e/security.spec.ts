import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, phoneDisplayDigits, test } from './fixtures';

test('refusing the pairing code stops the job before any secret crosses the wire', async ({ world }) => {
  const w = await world({ models: ['CX600'] });
  const serial = w.demo.serials[0]!;
  const card = w.card(serial);
  await card.getByLabel('Phone number or extension').fill(w.user.extension);
  await card.getByRole('button', { name: 'Sign in' }).click();
  const code = card.getByTestId('pairing-code');
  await expect(code).toBeVisible();
  expect(phoneDisplayDigits(w.demo, serial)).toContain((await code.textContent())!.replace(/\D/g, ''));
  await card.getByRole('button', { name: 'No' }).click();
  await expect.poll(async () => (await w.jobs())[0]!.state).toMatch(/^(cancelled|failed)$/);
  await expect(card.getByLabel(/^(PIN|Password) for/)).toHaveCount(0);
  // On the wire: the refusal went out, and nothing that carries a secret did, nor came back.
  expect(w.wire.sent.some((f) => f.includes('"confirmPairing"') && f.includes('"matches":false'))).toBe(true);
  expect(w.wire.sent.some((f) => f.includes('provideCredentials') || f.includes('secret'))).toBe(false);
  expect(w.wire.received.some((f) => f.includes('"needsCredentials"'))).toBe(false);
  const [job] = await w.jobs();
  for (const stage of job!.stages.filter((s) => s.stage === 'auth' || s.stage === 'certificate' || s.stage === 'logon')) expect(stage.status).toBe('pending');
});

test('a wrong token or a foreign Origin gets nothing', async ({ page, world, browser }) => {
  const w = await world({ models: ['CX600'] });
  const port = w.host.port;

  // A wrong token, in a fresh browser profile (no cookie from the right one): an empty 403.
  const stranger = await browser.newContext();
  const other = await stranger.newPage();
  const wrong = `http://127.0.0.1:${port}/?token=${'A'.repeat(43)}`;
  // Chromium shows its own error page for an empty 403: the navigation fails, nothing of Tether loads.
  await expect(other.goto(wrong)).rejects.toThrow(/ERR_HTTP_RESPONSE_CODE_FAILURE/);
  await expect(other.goto(`http://127.0.0.1:${port}/`)).rejects.toThrow(/ERR_HTTP_RESPONSE_CODE_FAILURE/);
  const answer = await stranger.request.get(wrong);
  expect(answer.status()).toBe(403);
  expect(await answer.text()).toBe('');
  await stranger.close();

  // A page on another local port (another origin, same site: the cookie would go along) opens the WebSocket.
  const evil = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
  try {
    await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    const outcome = await page.evaluate(
      (target) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(target);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        }),
      `ws://127.0.0.1:${port}/ws`,
    );
    expect(outcome).toBe('refused');
  } finally {
    evil.closeAllConnections();
    await new Promise((r) => evil.close(r));
  }
  expect(w.host.stats.refused).toBeGreaterThanOrEqual(3);
});
