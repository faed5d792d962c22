import { expect, it } from 'vitest';
import { manualTimers, openHostSession } from '../../../native/protocol';
import { findTetherInterface } from '../../../native/usb/endpoints';
import { UsbFrameLink } from '../../../native/usb/frame-link';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone } from '../../../native/virtual/create';

it('a host that vanished without RESET: the next host is answered', async () => {
  const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
  await device.open();
  await device.claimInterface(1);
  const a = await openHostSession(new UsbFrameLink(device, findTetherInterface(device)), { timers: manualTimers() });
  await a.confirmPairing();
  device.wire.abortHostTransfers(); // host A's process dies: its transfers are gone, no RESET is sent
  await a.closed;
  const b = await openHostSession(new UsbFrameLink(device, findTetherInterface(device)), { handshakeTimeoutMs: 5000 });
  expect(b.identity.modelId).toBe('CX600');
  expect(b.paired).toBe(false);
  await b.close();
});
