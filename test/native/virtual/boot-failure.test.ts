import { expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { openHostSession } from '../../../native/protocol';
import { openTetherLink } from '../../../native/usb/open';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone, type BootState, type VirtualPhoneHost } from '../../../native/virtual/create';
import { MemoryPhoneStore, type PersistedPhone } from '../../../native/virtual/phone/store';

/** Flash that can be told to fail: reading the phone's record, and optionally writing it. */
class FlakyStore extends MemoryPhoneStore {
  failLoad = false;
  failSave = false;
  loads = 0;
  override async load(serial: string): Promise<PersistedPhone | null> {
    this.loads++;
    if (this.failLoad) throw new TetherError('INTERNAL', 'flash read error (injected)');
    return super.load(serial);
  }
  override async save(state: PersistedPhone): Promise<void> {
    if (this.failSave) throw new Error('flash write error (injected)');
    return super.save(state);
  }
}

function nextBootFailure(host: VirtualPhoneHost): Promise<Extract<BootState, { state: 'boot-failed' }>> {
  return new Promise((resolve) => {
    const off = host.onBootFailed((s) => {
      off();
      resolve(s);
    });
  });
}

async function phoneWithFlakyStore(): Promise<{ host: VirtualPhoneHost; store: FlakyStore }> {
  const store = new FlakyStore();
  const device = await createVirtualPhone({ model: 'CX600', serial: 'CX600-BOOT1', store, clock: new VirtualClock() });
  expect(device.host!.bootState).toEqual({ state: 'running' });
  return { host: device.host!, store };
}

// vitest fails a run on an unhandled rejection, so each test also proves none escapes.
it('a reboot the PC asked for, with flash that cannot be read: the phone stays off, says why, and comes back later', async () => {
  const { host, store } = await phoneWithFlakyStore();
  const session = await openHostSession(await openTetherLink(host.device!));
  await session.confirmPairing();
  const detached = new Promise<void>((resolve) => host.onDetach(() => resolve()));
  const failed = nextBootFailure(host);
  store.failLoad = true;
  const reply = await session.call('reboot', { delayMs: 0 });
  expect(reply.rebootInMs).toBeGreaterThan(0);
  await detached;
  const state = await failed;
  expect(state).toMatchObject({ state: 'boot-failed', reason: 'reboot asked by the PC', error: { code: 'INTERNAL', message: 'flash read error (injected)' } });
  expect(host.bootState).toBe(state);
  expect(host.device).toBeNull(); // it never enumerates: the host sees a detach and no re-attach
  expect(() => host.phone).toThrow(TetherError);
  expect((await session.closed)?.code).toBeDefined(); // the host's session ended with the detach
  expect(host.powerLog.join('\n')).toMatch(/boot failed \(reboot asked by the PC\): INTERNAL: flash read error \(injected\); staying off/);
  // Flash readable again: power-on brings the same phone back.
  store.failLoad = false;
  const device = await host.powerOn();
  expect(device).not.toBeNull();
  expect(host.bootState).toEqual({ state: 'running' });
  const again = await openHostSession(await openTetherLink(device!));
  expect(again.identity.serial).toBe('CX600-BOOT1');
  await again.close();
});

it('a power cut during a firmware transfer, with flash that fails both ways: logged, no rejection', async () => {
  const { host, store } = await phoneWithFlakyStore();
  const failed = nextBootFailure(host);
  store.failLoad = true;
  store.failSave = true;
  // The power-cut fault's path: fire-and-forget, as handlers.ts calls it.
  void host.reboot('power cut (test)');
  const state = await failed;
  expect(state.error.code).toBe('INTERNAL');
  const log = host.powerLog.join('\n');
  expect(log).toMatch(/power off \(power cut \(test\)\): saving to flash failed/);
  expect(log).toMatch(/boot failed \(power cut \(test\)\)/);
});

it('reboot() and powerOn() resolve (null) instead of rejecting when the boot fails', async () => {
  const { host, store } = await phoneWithFlakyStore();
  store.failLoad = true;
  await expect(host.reboot()).resolves.toBeUndefined();
  expect(host.bootState.state).toBe('boot-failed');
  await expect(host.powerOn()).resolves.toBeNull();
  expect(store.loads).toBe(3); // create, reboot, power-on: each power-on tries the flash again
  await host.powerOff(); // it is off already: the failure stays what the host can observe
  expect(host.bootState.state).toBe('boot-failed');
});

it('createVirtualPhone rejects with the typed load error (nothing to attach)', async () => {
  const store = new FlakyStore();
  store.failLoad = true;
  await expect(createVirtualPhone({ model: 'CX600', store, clock: new VirtualClock() })).rejects.toMatchObject({ code: 'INTERNAL' });
});
