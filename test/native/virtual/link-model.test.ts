import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openHostSession } from '../../../native/protocol';
import { openTetherLink } from '../../../native/usb/open';
import { createVirtualPhone } from '../../../native/virtual/create';
import { UsbFrameLink } from '../../../native/usb/frame-link';
import { findTetherInterface } from '../../../native/usb/endpoints';
import { VirtualClock, type Clock } from '../../../native/virtual/clock';
import { TETHER_OUT_ENDPOINT } from '../../../native/virtual/descriptors';
import { BusTimeline, linkModel } from '../../../native/virtual/link-model';
import { bareDevice, bytes, openClaimed } from './helpers';

describe('link model', () => {
  it('states USB 2.0 bulk capacity: 53.248 MB/s at high speed, 1.216 MB/s at full speed', () => {
    expect(linkModel('high').capacityBytesPerSecond).toBe(53_248_000);
    expect(linkModel('full').capacityBytesPerSecond).toBe(1_216_000);
    expect(linkModel('high').packetSize).toBe(512);
    expect(linkModel('full').packetSize).toBe(64);
  });

  it('starts each reservation where the last ended, and forgives a late wake-up once', () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const bus = new BusTimeline(linkModel('full'), clock);
    const a = bus.reserve(64 * 19); // one 1 ms frame's worth
    expect(a.start).toBe(0);
    expect(a.end).toBeCloseTo(1, 9);
    expect(a.completeAt).toBeCloseTo(2, 9);
    const b = bus.reserve(64);
    expect(b.start).toBeCloseTo(1, 9);
    void clock.advance(10);
    bus.settled(b.completeAt); // the caller heard of b 10 - completeAt ms late
    const c = bus.reserve(64);
    expect(c.start).toBeCloseTo(b.completeAt, 9);
  });
});

/** Pipelined OUT transfers (several queued, as a windowed protocol does) against a draining phone. */
async function pipelinedThroughput(speed: 'high' | 'full', frameBytes: number, count: number, clock: VirtualClock) {
  const { device, phoneSide } = bareDevice({ speed, clock });
  await openClaimed(device);
  const link = phoneSide();
  const frame = bytes(frameBytes);
  const needsZlp = frameBytes % device.link.packetSize === 0;
  const t0 = clock.now();
  const sends: Promise<USBOutTransferResult>[] = [];
  for (let i = 0; i < count; i++) {
    sends.push(device.transferOut(TETHER_OUT_ENDPOINT, frame));
    if (needsZlp) sends.push(device.transferOut(TETHER_OUT_ENDPOINT, new Uint8Array(0)));
  }
  for (let i = 0; i < count; i++) await link.receive(frameBytes);
  await Promise.all(sends);
  const seconds = (clock.now() - t0) / 1000;
  return (frameBytes * count) / seconds / device.capacityBytesPerSecond;
}

describe('link pacing (virtual clock)', () => {
  it('interleaves directions: a short IN transfer does not wait behind a long OUT queue, and both share capacity', async () => {
    const clock = new VirtualClock();
    const { device, phoneSide } = bareDevice({ speed: 'high', clock });
    await openClaimed(device);
    const phone = phoneSide();
    const outs = Array.from({ length: 50 }, () => device.transferOut(TETHER_OUT_ENDPOINT, bytes(65_000)));
    await phone.send(bytes(20));
    const t0 = clock.now();
    const ack = await device.transferIn(3, 512);
    expect(ack.data?.byteLength).toBe(20);
    expect(clock.now() - t0).toBeLessThan(1); // not 50 × 1.24 ms
    for (let i = 0; i < 50; i++) await phone.receive(65_000);
    await Promise.all(outs);
    const payload = 50 * 65_000 + 20;
    expect(payload / (clock.now() / 1000)).toBeLessThanOrEqual(device.capacityBytesPerSecond);
  });


  it('reaches ≥95% of high-speed capacity when transfers are pipelined', async () => {
    const clock = new VirtualClock();
    const fraction = await pipelinedThroughput('high', 16_000, 400, clock);
    expect(fraction).toBeGreaterThanOrEqual(0.95);
    expect(fraction).toBeLessThanOrEqual(1);
  });

  it('reaches ≥95% of full-speed capacity when transfers are pipelined', async () => {
    const clock = new VirtualClock();
    const fraction = await pipelinedThroughput('full', 4_000, 200, clock);
    expect(fraction).toBeGreaterThanOrEqual(0.95);
    expect(fraction).toBeLessThanOrEqual(1);
  });

  it('charges stop-and-wait its turnaround per transfer', async () => {
    const clock = new VirtualClock();
    const { device, phoneSide } = bareDevice({ speed: 'high', clock });
    await openClaimed(device);
    const link = phoneSide();
    const t0 = clock.now();
    for (let i = 0; i < 50; i++) {
      const sent = device.transferOut(TETHER_OUT_ENDPOINT, bytes(1000));
      await link.receive(1000);
      await sent;
    }
    const packetMs = 0.125 / 13;
    expect(clock.now() - t0).toBeCloseTo(50 * (2 * packetMs + 0.125), 6);
  });

  it("carries H3's UsbFrameLink (the production host adapter) at close to capacity", async () => {
    const clock = new VirtualClock();
    const { device, phoneSide } = bareDevice({ speed: 'high', clock });
    await openClaimed(device);
    const link = new UsbFrameLink(device, findTetherInterface(device));
    const phone = phoneSide();
    const frame = bytes(65_000);
    const t0 = clock.now();
    const sends = Array.from({ length: 40 }, () => link.send(frame));
    for (let i = 0; i < 40; i++) await phone.receive(65_536);
    await Promise.all(sends);
    const fraction = (65_000 * 40) / ((clock.now() - t0) / 1000) / device.capacityBytesPerSecond;
    // One send at a time costs a turnaround per 64 KB frame (≈ 0.90); sends kept in flight reach ≈ 0.99.
    console.log(`UsbFrameLink over the virtual phone, high speed: ${(fraction * 100).toFixed(1)} % of capacity`);
    expect(fraction).toBeGreaterThan(0.85);
    expect(fraction).toBeLessThanOrEqual(1);
    await link.close();
  });
});

describe('the whole stack over the virtual link (H1 session, H3 adapter)', () => {
  for (const [speed, size] of [['high', 4_000_000], ['full', 300_000]] as const) {
    it(`pushes firmware at ${speed} speed close to link capacity`, async () => {
      const clock = new VirtualClock();
      const device = await createVirtualPhone({ model: 'CX600', clock, speed });
      const s = await openHostSession(await openTetherLink(device));
      await s.confirmPairing();
      const img = bytes(size);
      const sha256 = createHash('sha256').update(img).digest();
      const t0 = clock.now();
      const b = await s.call('firmwareBegin', { size, version: '9', sha256 });
      const w = s.bulkWriter(b.transferId);
      await w.write(0, img);
      await w.flush();
      const fraction = size / ((clock.now() - t0) / 1000) / device.capacityBytesPerSecond;
      console.log(`firmware push at ${speed} speed: ${(fraction * 100).toFixed(1)} % of capacity`);
      expect(fraction).toBeGreaterThan(0.85);
      expect(fraction).toBeLessThanOrEqual(1);
      await s.close();
      await device.host!.powerOff();
    });
  }
});

/** A clock whose timers always fire `lateMs` after their deadline, as a real, busy event loop's do. */
class LateClock implements Clock {
  readonly inner = new VirtualClock();
  constructor(private readonly lateMs: number) {}
  now(): number {
    return this.inner.now();
  }
  sleepUntil(deadlineMs: number): Promise<void> {
    return this.inner.sleepUntil(deadlineMs + this.lateMs);
  }
}

async function stopAndWait(clock: Clock, n: number): Promise<number> {
  const { device, phoneSide } = bareDevice({ speed: 'high', clock });
  await openClaimed(device);
  const link = phoneSide();
  const t0 = clock.now();
  for (let i = 0; i < n; i++) {
    const sent = device.transferOut(TETHER_OUT_ENDPOINT, bytes(16_000));
    await link.receive(16_000);
    await sent;
  }
  return clock.now() - t0;
}

describe('link pacing with late timers', () => {
  // The real-clock figure is in `npm run bench` (pacing); here lateness is modelled exactly.
  it('charges a stop-and-wait caller bus time and turnaround, not the lateness of every timer', async () => {
    const n = 400;
    const expected = n * (32 * (0.125 / 13) + 0.125);
    expect(await stopAndWait(new VirtualClock(), n)).toBeCloseTo(expected, 6);
    const lateMs = 1;
    const late = await stopAndWait(new LateClock(lateMs), n);
    // Never faster than the bus allows; lateness costs once per wait chain, not once per transfer
    // (which would be ≥ n × lateMs more).
    expect(late).toBeGreaterThanOrEqual(expected);
    expect(late - expected).toBeLessThan(n * lateMs * 0.1);
  });

  it('does not mistake a stalled process for a fast bus: lateness beyond MAX_LAG_MS is paid', async () => {
    const n = 20;
    const lateMs = BusTimeline.MAX_LAG_MS * 3;
    const late = await stopAndWait(new LateClock(lateMs), n);
    const expected = n * (32 * (0.125 / 13) + 0.125);
    expect(late - expected).toBeGreaterThanOrEqual(n * (lateMs - BusTimeline.MAX_LAG_MS) * 0.9);
  });
});
