import { drive, driveAll, expect, expectAccessible, shoot, test } from './fixtures';

test('a virtual phone attaches, the codes match, PIN sign-in, and all nine stages finish', async ({ page, world }) => {
  const w = await world({ models: ['CX600'], updateModels: ['CX600'], imageBytes: 16 << 20 });
  const serial = w.demo.serials[0]!;
  const card = w.card(serial);
  await expect(card.getByText('Polycom CX600')).toBeVisible();
  await expect(card.getByText(`Serial ${serial}`, { exact: false })).toBeVisible();
  await expectAccessible(page);
  await shoot(page, '01-phone-attached');

  await card.getByLabel('Phone number or extension').fill(w.user.extension);
  await card.getByRole('button', { name: 'Sign in' }).click();
  const outcome = await drive(page, w, serial, {
    secret: w.user.pin,
    onScreen: async (screen) => {
      // The picture first: the push is over in a second or two.
      await shoot(page, { pairing: '02-pairing-code', credentials: '04-pin', pushing: '03-firmware-push' }[screen]);
      await expectAccessible(page);
    },
  });
  expect(outcome).toBe('signed-in');
  const stages = card.getByRole('listitem');
  await expect(stages).toHaveCount(9);
  for (const item of await stages.all()) await expect(item).toHaveAttribute('data-status', /^(done|skipped)$/);
  await expectAccessible(page);
  await shoot(page, '05-signed-in');

  // The service agrees with the window.
  const [job] = await w.jobs();
  expect(job!.state).toBe('signed-in');
  // The PIN went to the service once and never came back to the page.
  expect(w.wire.sent.filter((f) => f.includes('provideCredentials'))).toHaveLength(1);
  expect(w.wire.received.some((f) => f.includes(w.user.pin))).toBe(false);

  // The strict CSP held: Fluent's run-time styles all carry the page's nonce, and nothing was refused.
  expect(w.cspViolations).toEqual([]);
  const styles = await page.evaluate(() => {
    const all = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ nonce: string }> } }).document.querySelectorAll('style');
    return Array.from(all).map((el) => el.nonce.length > 0);
  });
  expect(styles.length).toBeGreaterThan(0);
  expect(styles.every(Boolean)).toBe(true);

  await page.emulateMedia({ colorScheme: 'dark' });
  await expectAccessible(page);
  await shoot(page, '06-signed-in-dark');
});

test('Windows sign-in on a CX700 (no dial pad: Windows credentials only), by keyboard', async ({ page, world }) => {
  const w = await world({ models: ['CX700'] });
  const serial = w.demo.serials[0]!;
  const card = w.card(serial);
  await expect(card.getByText(/no dial pad/)).toBeVisible();
  await expect(card.getByRole('radio')).toHaveCount(0);
  // Keyboard only: Tab to each field, type, Enter submits.
  await card.getByLabel(/User name/).focus();
  await page.keyboard.type(w.user.ntlm);
  await page.keyboard.press('Tab');
  await page.keyboard.type(w.user.sipUri);
  await expectAccessible(page);
  await shoot(page, '07-windows-sign-in');
  await page.keyboard.press('Enter');
  const code = card.getByTestId('pairing-code');
  await expect(code).toBeVisible();
  await card.getByRole('button', { name: 'Yes, it matches' }).focus();
  await page.keyboard.press('Enter');
  const password = card.getByLabel(/Password for/);
  await expect(password).toBeFocused({ timeout: 60_000 });
  await page.keyboard.type(w.user.password);
  await page.keyboard.press('Enter');
  await expect(password).toBeHidden();
  expect(await drive(page, w, serial, { secret: w.user.password })).toBe('signed-in');
  const [job] = await w.jobs();
  expect(job!.spec.kind).toBe('ntlm');
  expect(job!.state).toBe('signed-in');
});

test('three phones at once, side by side', async ({ page, world }) => {
  await page.setViewportSize({ width: 1500, height: 900 });
  const w = await world({ models: ['CX600', 'HP4120', 'AASTRA6725IP'] });
  await expect(page.locator('[data-serial]')).toHaveCount(3);
  for (const serial of w.demo.serials) {
    const card = w.card(serial);
    await card.getByLabel('Phone number or extension').fill(w.user.extension);
    await card.getByRole('button', { name: 'Sign in' }).click();
  }
  const outcomes = await driveAll(page, w, w.demo.serials, { secret: w.user.pin });
  expect(outcomes).toEqual(['signed-in', 'signed-in', 'signed-in']);
  await expectAccessible(page);
  await shoot(page, '08-three-phones');
  expect((await w.jobs()).map((j) => j.state)).toEqual(['signed-in', 'signed-in', 'signed-in']);
});
