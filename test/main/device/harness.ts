import { createHash } from 'node:crypto';
import { TetherError } from '../../../common/errors';
import type { SessionTimers } from '../../../native/protocol';
import { ManualSource } from '../../../native/usb/source';
import { createVirtualPhone, MemoryPhoneStore, VirtualClock, type FaultPlan, type LinkSpeed, type PhoneStore, type VirtualUsbDevice } from '../../../native/virtual';
import { streamImage, type FirmwareImage } from '../../../main/device/firmware-image';
import { DeviceManager } from '../../../main/device/manager';

/** A seeded PRNG (xorshift32) so a failing sweep point can be replayed from its seed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/** An in-memory image read in `chunk`-byte pieces from any offset (small images only: tests). */
export function bytesImage(bytes: Uint8Array, version: string, chunk = 16 * 1024): FirmwareImage & { reads: number[] } {
  const reads: number[] = [];
  const sha256 = new Uint8Array(createHash('sha256').update(bytes).digest());
  const image = streamImage({ size: bytes.byteLength, version, sha256 }, async function* (offset) {
    reads.push(offset);
    for (let at = offset; at < bytes.byteLength; at += chunk) yield bytes.subarray(at, Math.min(bytes.byteLength, at + chunk));
  });
  return Object.assign(image, { reads });
}

export function randomImage(size: number, rand: () => number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export interface Rig {
  readonly device: VirtualUsbDevice;
  readonly bus: ManualSource;
  readonly manager: DeviceManager;
  readonly store: PhoneStore;
  readonly serial: string;
  close(): Promise<void>;
}

/**
 * One virtual phone on a virtual clock (the link and the phone's boot run in virtual time, so a
 * push of a small image takes milliseconds), plugged into a fleet that follows it by serial.
 */
export async function rig(options: { serial?: string; speed?: LinkSpeed; faults?: FaultPlan; replugAfterMs?: number | null; maxImageBytes?: number; timers?: SessionTimers } = {}): Promise<Rig> {
  const serial = options.serial ?? 'CX600-TEST0001';
  const bus = new ManualSource('virtual');
  const store = new MemoryPhoneStore();
  const device = await createVirtualPhone({
    model: 'CX600',
    serial,
    speed: options.speed ?? 'high',
    clock: new VirtualClock(),
    store,
    bus,
    faults: options.faults,
    // null: the cable stays out until the test plugs it back.
    replugAfterMs: options.replugAfterMs === null ? undefined : (options.replugAfterMs ?? 5),
    maxImageBytes: options.maxImageBytes,
  });
  const manager = new DeviceManager({ sources: [bus], retryDelayMs: 0, timers: options.timers });
  await manager.start();
  return {
    device,
    bus,
    manager,
    store,
    serial,
    async close() {
      await manager.stop();
      await device.host?.powerOff('test done');
    },
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * The phone's flash is never corrupt: the running slot holds a complete image whose SHA-256 is the
 * one recorded, and so does every other slot that claims a complete image (verified, pending,
 * active, committed). Only a slot in 'receiving' or 'empty' may hold partial bytes.
 */
export async function assertFlashSound(r: Rig): Promise<void> {
  const record = await r.store.load(r.serial);
  if (!record) throw new Error('the phone has no flash record');
  const fw = record.firmware;
  const running = fw.slots[fw.running];
  if (running.state === 'empty' || running.state === 'receiving') {
    throw new TetherError('INTERNAL', `running slot ${fw.running} is ${running.state}`);
  }
  for (const slot of ['a', 'b'] as const) {
    const s = fw.slots[slot];
    if (s.state === 'empty' || s.state === 'receiving' || s.sha256 === null) continue;
    const bytes = await r.store.readImage(r.serial, slot, s.size);
    // A factory image has no bytes in a test store; anything written must match its record.
    if (bytes.byteLength === 0 && s.size === 0) continue;
    if (bytes.byteLength !== s.size || hex(new Uint8Array(createHash('sha256').update(bytes).digest())) !== s.sha256) {
      throw new Error(`slot ${slot} (${s.state}, ${s.version}) does not hold the image its record names`);
    }
  }
}
