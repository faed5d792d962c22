import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openHostSession, type HostSession } from '../../../native/protocol';
import { openTetherLink } from '../../../native/usb/open';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone } from '../../../native/virtual/create';
import { findTetherInterface } from '../../../native/usb/endpoints';

const open: HostSession[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
});

async function connect(device: USBDevice): Promise<HostSession> {
  const session = await openHostSession(await openTetherLink(device));
  open.push(session);
  await session.confirmPairing();
  return session;
}

function image(size: number): { img: Uint8Array; sha256: Uint8Array } {
  const img = new Uint8Array(size);
  for (let i = 0; i < size; i++) img[i] = (i * 13 + 5) & 0xff;
  return { img, sha256: new Uint8Array(createHash('sha256').update(img).digest()) };
}

describe('phone faults over USB', () => {
  it('reboot during update: the phone comes back holding what it wrote, and the transfer resumes', async () => {
    const device = await createVirtualPhone({ model: 'AASTRA6725IP', serial: 'A-REBOOT', clock: new VirtualClock(), faults: { rebootDuringUpdate: { atByte: 100_000 } } });
    const host = device.host!;
    const { img, sha256 } = image(250_000);
    let s = await connect(device);
    const b = await s.call('firmwareBegin', { size: img.byteLength, version: '4.0.7577.7777', sha256 });
    const back = host.nextAttach();
    const w = s.bulkWriter(b.transferId);
    await expect(w.write(0, img).then(() => w.flush())).rejects.toBeTruthy();
    s = await connect(await back);
    expect(s.identity.firmwareVersion).toBe('4.0.7577.4455');
    const st = await s.call('firmwareStatus', {});
    expect(st.transfer?.have).toBeGreaterThanOrEqual(100_000);
    expect(st.slots.find((x) => x.slot === 'b')?.state).toBe('receiving');
    const r = await s.call('firmwareBegin', { size: img.byteLength, version: '4.0.7577.7777', sha256 });
    expect(r.have).toBe(st.transfer?.have);
    const w2 = s.bulkWriter(r.transferId);
    await w2.write(r.have, img.subarray(r.have));
    await w2.flush();
    await s.call('firmwareVerify', { transferId: r.transferId });
    expect((await s.call('logs', { maxBytes: 10_000 })).text).toContain('power cut while receiving firmware');
  });

  it('a new image that fails to boot: the phone falls back to the old slot and empties the new one', async () => {
    const device = await createVirtualPhone({ model: 'CX600', serial: 'C-FAILBOOT', clock: new VirtualClock(), faults: { failNextBoot: true } });
    const host = device.host!;
    const { img, sha256 } = image(5_000);
    let s = await connect(device);
    const b = await s.call('firmwareBegin', { size: img.byteLength, version: '4.0.7577.8888', sha256 });
    const w = s.bulkWriter(b.transferId);
    await w.write(0, img);
    await w.flush();
    await s.call('firmwareVerify', { transferId: b.transferId });
    const back = host.nextAttach();
    await s.call('firmwareActivate', { transferId: b.transferId });
    s = await connect(await back);
    expect(s.identity.firmwareVersion).toBe('4.0.7577.4455');
    const st = await s.call('firmwareStatus', {});
    expect(st).toMatchObject({ running: 'a', pendingCommit: false });
    expect(st.slots.find((x) => x.slot === 'b')).toEqual({ slot: 'b', version: null, state: 'empty' });
  });

  it('a corrupted or truncated frame ends the session with a typed protocol error; the next session works', async () => {
    for (const faults of [{ corruptFrame: { direction: 'in' as const, index: 3 } }, { truncateFrame: { direction: 'in' as const, index: 3, length: 20 } }]) {
      const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock(), faults });
      const s = await openHostSession(await openTetherLink(device));
      open.push(s);
      await s.confirmPairing().catch(() => {});
      const calls = Array.from({ length: 5 }, () => s.call('status', {}).then(() => 'ok', (e: unknown) => e));
      const outcomes = await Promise.all(calls);
      const err = (await s.closed) ?? outcomes.find((o) => o !== 'ok');
      expect(err).toBeInstanceOf(Error);
      expect((err as { code?: string }).code).toMatch(/^(PROTOCOL|USB)_/);
      while (device.opened) await new Promise((r) => setImmediate(r));
      // Flush what the broken session left in the pipes (see reconnect.test.ts).
      await device.open();
      await device.reset();
      const again = await openHostSession(await openTetherLink(device));
      open.push(again);
      await again.confirmPairing();
      expect((await again.call('status', {})).registration.state).toBe('unregistered');
    }
  });

  it('a stalled endpoint surfaces as USB_STALL to the host, which clears the halt', async () => {
    const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
    const link = await openTetherLink(device);
    device.wire.halt('out');
    // The adapter may queue the transfer and report the stall on a later call.
    const first = await link.send(new Uint8Array(10)).then(() => null, (e: unknown) => e);
    const err = first ?? (await link.send(new Uint8Array(10)).then(() => null, (e: unknown) => e)) ?? (await link.receive(64).then(() => null, (e: unknown) => e));
    expect(err).toMatchObject({ code: 'USB_STALL' });
    expect(device.wire.isHalted('out')).toBe(false); // the adapter sent CLEAR_FEATURE(ENDPOINT_HALT)
    expect(findTetherInterface(device).out.endpointNumber).toBe(2);
    await link.close();
  });

  it('a slow device still completes, more slowly in link time', async () => {
    const clock = new VirtualClock();
    const fast = await createVirtualPhone({ model: 'CX600', clock, speed: 'full' });
    const slow = await createVirtualPhone({ model: 'CX600', clock, speed: 'full', faults: { slow: { bandwidthFactor: 0.2, extraLatencyMs: 2 } } });
    const { img, sha256 } = image(20_000);
    const timeUpload = async (device: USBDevice) => {
      const s = await connect(device);
      const t0 = clock.now();
      const b = await s.call('firmwareBegin', { size: img.byteLength, version: '9', sha256 });
      const w = s.bulkWriter(b.transferId);
      await w.write(0, img);
      await w.flush();
      return clock.now() - t0;
    };
    const tf = await timeUpload(fast);
    const ts = await timeUpload(slow);
    expect(ts).toBeGreaterThan(tf * 3);
  });

  it('the pulled cable is announced to hotplug listeners, and replugAfterMs brings the phone back', async () => {
    const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock(), replugAfterMs: 500, faults: { unplugAfterFrames: { frames: 1 } } });
    const host = device.host!;
    const detached: USBDevice[] = [];
    host.onDetach((d) => detached.push(d));
    const back = host.nextAttach();
    await expect(openHostSession(await openTetherLink(device), { handshakeTimeoutMs: 60_000 })).rejects.toBeTruthy();
    expect(detached).toEqual([device]);
    const again = await back;
    expect(again.serialNumber).toBe(device.serialNumber);
    await connect(again);
  });
});
