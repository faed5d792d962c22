import { expect, it } from 'vitest';
import { manualTimers, openHostSession } from '../../../native/protocol';
import { findTetherInterface } from '../../../native/usb/endpoints';
import { openTetherLink } from '../../../native/usb/open';
import { UsbFrameLink } from '../../../native/usb/frame-link';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone } from '../../../native/virtual/create';

it('a host that vanished without RESET: the next host resets the device and is answered', async () => {
  const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
  await device.open();
  await device.claimInterface(1);
  const a = await openHostSession(new UsbFrameLink(device, findTetherInterface(device)), { timers: manualTimers() });
  await a.confirmPairing();
  device.wire.abortHostTransfers(); // host A's process dies: its transfers are gone, no RESET is sent
  await a.closed;
  // Frames host A's session left in the phone's IN FIFO (events, replies) would reach host B first;
  // a host taking over a phone resets it, which flushes the pipes and restarts the phone's session.
  await device.reset();
  const b = await openHostSession(new UsbFrameLink(device, findTetherInterface(device)), { handshakeTimeoutMs: 5000 });
  expect(b.identity.modelId).toBe('CX600');
  expect(b.paired).toBe(false);
  await b.close();
});

it('answers a new host session after each graceful close on the same enumeration', async () => {
  const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
  for (let i = 0; i < 3; i++) {
    const s = await openHostSession(await openTetherLink(device));
    await s.confirmPairing();
    expect((await s.call('status', {})).registration.state).toBe('unregistered');
    await s.close();
    // HostSession.close() resolves before its link has released the interface and closed the device.
    while (device.opened) await new Promise((r) => setImmediate(r));
  }
});
