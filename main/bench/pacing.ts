import { BUILT_IN_CATALOGUE } from '../../native/usb/catalogue';
import { RealClock, VirtualFaults, VirtualUsbDevice, linkModel } from '../../native/virtual';
import type { FrameLink } from '../../native/protocol';
import { TETHER_OUT_ENDPOINT } from '../../native/virtual/descriptors';

export interface PacingResult {
  readonly transfers: number;
  /** Real milliseconds for the stop-and-wait run. */
  readonly elapsedMs: number;
  /** What the link model charges for it: bus time and turnaround, no timer lateness. */
  readonly busMs: number;
}

/**
 * Stop-and-wait 16 000-byte OUT transfers on a bare virtual device paced by the real clock: every
 * transfer waits on timers, so this shows how much of Node's timer lateness reaches the caller
 * (the link model forgives it; test/native/virtual/link-model.test.ts checks that on a late
 * virtual clock, this measures it on the real one).
 */
export async function measurePacing(transfers: number): Promise<PacingResult> {
  let phone: FrameLink | null = null;
  const link = linkModel('high');
  const device = new VirtualUsbDevice({
    description: {
      vendorId: 0x095d,
      productId: 0x5401,
      bcdDevice: 0x0400,
      manufacturerName: 'Polycom',
      productName: 'Polycom CX600',
      serialNumber: 'BENCH-PACING',
      speed: 'high',
      tether: BUILT_IN_CATALOGUE.tetherInterface,
    },
    link,
    clock: new RealClock(),
    faults: new VirtualFaults(),
    onWire: (w) => (phone = w.deviceLink),
    onUnplug: () => undefined,
  });
  await device.open();
  await device.claimInterface(1);
  const side = phone as FrameLink | null;
  if (side === null) throw new Error('the virtual device brought up no link');
  const data = new Uint8Array(16_000).fill(0x5a);
  const t0 = performance.now();
  for (let i = 0; i < transfers; i++) {
    const sent = device.transferOut(TETHER_OUT_ENDPOINT, data);
    await side.receive(data.byteLength);
    await sent;
  }
  const elapsedMs = performance.now() - t0;
  await device.close();
  const packets = Math.ceil(data.byteLength / link.packetSize);
  const busMs = transfers * (packets * (link.intervalMs / link.packetsPerInterval) + link.turnaroundMs);
  return { transfers, elapsedMs, busMs };
}
