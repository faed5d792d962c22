import { BUILT_IN_CATALOGUE } from '../../../native/usb/catalogue';
import { VirtualClock, type Clock } from '../../../native/virtual/clock';
import type { DeviceDescription } from '../../../native/virtual/descriptors';
import { VirtualFaults, type FaultPlan } from '../../../native/virtual/faults';
import { linkModel, type LinkSpeed } from '../../../native/virtual/link-model';
import { VirtualUsbDevice } from '../../../native/virtual/usb-device';
import type { UsbWire } from '../../../native/virtual/wire';

/** A bare virtual USB device (no phone behind it): tests drive the phone's side through `wires`. */
export function bareDevice(options: { speed?: LinkSpeed; faults?: FaultPlan; clock?: Clock; turnaroundMs?: number } = {}) {
  const speed = options.speed ?? 'high';
  const clock = options.clock ?? new VirtualClock();
  const faults = new VirtualFaults(options.faults);
  const wires: UsbWire[] = [];
  let unplugs = 0;
  const description: DeviceDescription = {
    vendorId: 0x095d,
    productId: 0x5401,
    bcdDevice: 0x0400,
    manufacturerName: 'Polycom',
    productName: 'Polycom CX600',
    serialNumber: 'TEST0001',
    speed,
    tether: BUILT_IN_CATALOGUE.tetherInterface,
  };
  const device = new VirtualUsbDevice({
    description,
    link: linkModel(speed, options.turnaroundMs === undefined ? {} : { turnaroundMs: options.turnaroundMs }),
    clock,
    faults,
    onWire: (w) => wires.push(w),
    onUnplug: () => {
      unplugs++;
      device.detach();
    },
  });
  return { device, clock, faults, wires, phoneSide: () => wires[wires.length - 1]!.deviceLink, unplugs: () => unplugs };
}

export async function openClaimed(device: USBDevice): Promise<void> {
  await device.open();
  await device.claimInterface(1);
}

export function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

export function viewBytes(r: USBInTransferResult): Uint8Array {
  const v = r.data;
  return v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(0);
}
