import { drive, expect, expectAccessible, shoot, test } from './fixtures';

test('a lab fault shows the right stage, the user’s words and the admin’s cmdlet; Try again after the fix signs in', async ({ page, world, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const w = await world({ models: ['CX600'], labFaults: ['account-locked'] });
  const serial = w.demo.serials[0]!;
  const card = w.card(serial);
  await card.getByLabel('Phone number or extension').fill(w.user.extension);
  await card.getByRole('button', { name: 'Sign in' }).click();
  expect(await drive(page, w, serial, { secret: w.user.pin })).toBe('failed');

  const [job] = await w.jobs();
  const failure = job!.failure!;
  expect(failure.stage).toBe('auth');
  const view = card.getByTestId('failure');
  await expect(view.getByText('Stage 7: Authentication')).toBeVisible();
  await expect(view.getByText(failure.userSees, { exact: false })).toBeVisible();
  await expect(view.getByText(failure.userCan, { exact: false })).toBeVisible();
  await expect(view.getByText(failure.adminFix, { exact: false })).toBeVisible();
  expect(failure.cmdlet).toBeTruthy();
  await expect(view.getByTestId('cmdlet')).toHaveText(failure.cmdlet!);
  await view.getByRole('button', { name: 'Copy the command for your admin' }).click();
  await expect(view.getByRole('button', { name: 'Copy the command for your admin' })).toHaveText('Copied');
  // The page's clipboard (a DOM API; this file is type-checked with Node's view of the world).
  expect(await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText())).toBe(failure.cmdlet);
  await expect(card.locator('[data-stage="auth"]')).toHaveAttribute('data-status', 'failed');
  await expectAccessible(page);
  await shoot(page, '09-failure');

  const download = page.waitForEvent('download');
  await view.getByRole('button', { name: 'Save diagnostics' }).click();
  const saved = await (await download).path();
  const { readFile } = await import('node:fs/promises');
  const report = JSON.parse(await readFile(saved, 'utf8')) as { job: { failure: { code: string } } };
  expect(report.job.failure.code).toBe(failure.code);
  expect(JSON.stringify(report)).not.toContain(w.user.pin);

  // The admin unlocks the account; the user tries again.
  w.demo.lab.context.faults.set('account-locked', false);
  await view.getByRole('button', { name: 'Try again' }).click();
  expect(await drive(page, w, serial, { secret: w.user.pin })).toBe('signed-in');
});

test('unplugged during the firmware push, then plugged back: the push resumes and the sign-in finishes', async ({ page, world }) => {
  const imageBytes = 8 << 20;
  const w = await world({
    phones: [{ model: 'CX600', serial: 'CX600-V001', speed: 'high' }],
    updateModels: ['CX600'],
    imageBytes,
    phoneFaults: { 'CX600-V001': { unplugAtByte: { byte: imageBytes / 2 } } },
    replugAfterMs: 1500,
  });
  const card = w.card('CX600-V001');
  let sawUnplugged = false;
  const off = w.demo.service.on('phones', (phones) => {
    if (phones.some((p) => p.serial === 'CX600-V001' && p.state === 'unplugged')) sawUnplugged = true;
  });
  await card.getByLabel('Phone number or extension').fill(w.user.extension);
  await card.getByRole('button', { name: 'Sign in' }).click();
  expect(await drive(page, w, 'CX600-V001', { secret: w.user.pin })).toBe('signed-in');
  off();
  expect(sawUnplugged).toBe(true);
  await expect(card.locator('[data-stage="check-update"]')).toHaveAttribute('data-status', 'done');
});

test('a wrong PIN is asked again with the reason, and the right one signs in', async ({ page, world }) => {
  const w = await world({ models: ['CX600'] });
  const serial = w.demo.serials[0]!;
  const card = w.card(serial);
  await card.getByLabel('Phone number or extension').fill(w.user.extension);
  await card.getByRole('button', { name: 'Sign in' }).click();
  await card.getByRole('button', { name: 'Yes, it matches' }).click();
  const pin = card.getByLabel(/^PIN for/);
  const wrong = w.user.pin === '000000' ? '111111' : '000000';
  await pin.fill(wrong);
  await card.getByRole('button', { name: 'Continue' }).click();
  await expect(card.getByText(/did not accept/)).toBeVisible({ timeout: 60_000 });
  // Asked again with an empty field: the wrong PIN is not shown back.
  await expect(pin).toHaveValue('');
  expect(await drive(page, w, serial, { secret: w.user.pin })).toBe('signed-in');
  expect(w.wire.sent.filter((f) => f.includes('provideCredentials'))).toHaveLength(2);
  expect(w.wire.received.some((f) => f.includes(wrong) || f.includes(w.user.pin))).toBe(false);
});
