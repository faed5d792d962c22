import { describe, expect, it } from 'vitest';
import { TETHER_IN_ENDPOINT, TETHER_OUT_ENDPOINT } from '../../../native/virtual/descriptors';
import { bareDevice, bytes, openClaimed, viewBytes } from './helpers';

const notFound = (e: unknown): boolean => e instanceof DOMException && e.name === 'NotFoundError';

describe('fault: unplug', () => {
  it('at byte N of OUT: frames before it arrive, the transfer carrying it fails, the device is gone', async () => {
    const { device, phoneSide, unplugs } = bareDevice({ faults: { unplugAtByte: { byte: 2500 } } });
    await openClaimed(device);
    const phone = phoneSide();
    const a = device.transferOut(TETHER_OUT_ENDPOINT, bytes(1000, 1));
    const b = device.transferOut(TETHER_OUT_ENDPOINT, bytes(1000, 2));
    const c = device.transferOut(TETHER_OUT_ENDPOINT, bytes(1000, 3)); // carries byte 2500
    const d = device.transferOut(TETHER_OUT_ENDPOINT, bytes(1000, 4));
    expect(await phone.receive(2000)).toEqual(bytes(1000, 1));
    expect(await phone.receive(2000)).toEqual(bytes(1000, 2));
    await expect(c).rejects.toSatisfy(notFound);
    await expect(d).rejects.toSatisfy(notFound);
    await expect(phone.receive(2000)).rejects.toMatchObject({ code: 'USB_DISCONNECTED' });
    expect(unplugs()).toBe(1);
    expect(device.attached).toBe(false);
    await expect(device.transferOut(TETHER_OUT_ENDPOINT, bytes(1))).rejects.toSatisfy(notFound);
    // a and b crossed completely before the cable went; their completions were still in flight.
    await Promise.allSettled([a, b]);
  });

  it('at byte N of IN: the host never gets the transfer that carries it', async () => {
    const { device, phoneSide } = bareDevice({ faults: { unplugAtByte: { byte: 150, direction: 'in' } } });
    await openClaimed(device);
    const phone = phoneSide();
    await phone.send(bytes(100));
    expect(viewBytes(await device.transferIn(TETHER_IN_ENDPOINT, 512))).toEqual(bytes(100));
    await phone.send(bytes(100));
    await expect(device.transferIn(TETHER_IN_ENDPOINT, 512)).rejects.toSatisfy(notFound);
    await expect(phone.send(bytes(1))).rejects.toMatchObject({ code: 'USB_DISCONNECTED' });
  });

  it('after M frames: the phone has taken frame M when the cable goes', async () => {
    const { device, phoneSide, unplugs } = bareDevice({ faults: { unplugAfterFrames: { frames: 2 } } });
    await openClaimed(device);
    const phone = phoneSide();
    void device.transferOut(TETHER_OUT_ENDPOINT, bytes(10, 1)).catch(() => {});
    void device.transferOut(TETHER_OUT_ENDPOINT, bytes(10, 2)).catch(() => {});
    void device.transferOut(TETHER_OUT_ENDPOINT, bytes(10, 3)).catch(() => {});
    expect(await phone.receive(64)).toEqual(bytes(10, 1));
    expect(await phone.receive(64)).toEqual(bytes(10, 2));
    await expect(phone.receive(64)).rejects.toMatchObject({ code: 'USB_DISCONNECTED' });
    expect(unplugs()).toBe(1);
  });

  it('after M IN frames: the host gets frame M, then the device is gone', async () => {
    const { device, phoneSide } = bareDevice({ faults: { unplugAfterFrames: { frames: 1, direction: 'in' } } });
    await openClaimed(device);
    await phoneSide().send(bytes(20));
    expect(viewBytes(await device.transferIn(TETHER_IN_ENDPOINT, 64))).toEqual(bytes(20));
    await expect(device.transferIn(TETHER_IN_ENDPOINT, 64)).rejects.toSatisfy(notFound);
  });
});

describe('fault: corrupt and truncate', () => {
  it('flips a byte of OUT frame i and cuts IN frame j', async () => {
    const { device, phoneSide } = bareDevice({
      faults: { corruptFrame: { index: 1, offset: 3, xor: 0x01 }, truncateFrame: { direction: 'in', index: 0, length: 7 } },
    });
    await openClaimed(device);
    const phone = phoneSide();
    await device.transferOut(TETHER_OUT_ENDPOINT, bytes(10, 1));
    await device.transferOut(TETHER_OUT_ENDPOINT, bytes(10, 2));
    expect(await phone.receive(64)).toEqual(bytes(10, 1));
    const bad = await phone.receive(64);
    const want = bytes(10, 2);
    want[3] = want[3]! ^ 0x01;
    expect(bad).toEqual(want);
    await phone.send(bytes(30));
    expect(viewBytes(await device.transferIn(TETHER_IN_ENDPOINT, 64))).toEqual(bytes(30).subarray(0, 7));
    await phone.send(bytes(30));
    expect(viewBytes(await device.transferIn(TETHER_IN_ENDPOINT, 64))).toEqual(bytes(30)); // one-shot
  });
});

describe('fault: stall', () => {
  it('halts an endpoint after N frames; transfers stall until clearHalt', async () => {
    const { device, phoneSide } = bareDevice({ faults: { stallAfterFrames: { direction: 'out', frames: 1 } } });
    await openClaimed(device);
    const phone = phoneSide();
    expect((await device.transferOut(TETHER_OUT_ENDPOINT, bytes(10))).status).toBe('ok');
    expect(await device.transferOut(TETHER_OUT_ENDPOINT, bytes(10))).toEqual({ status: 'stall', bytesWritten: 0 });
    const status = await device.controlTransferIn({ requestType: 'standard', recipient: 'endpoint', request: 0, value: 0, index: TETHER_OUT_ENDPOINT }, 2);
    expect(viewBytes(status)[0]).toBe(1);
    await device.clearHalt('out', TETHER_OUT_ENDPOINT);
    expect((await device.transferOut(TETHER_OUT_ENDPOINT, bytes(11))).status).toBe('ok');
    expect(await phone.receive(64)).toEqual(bytes(10));
    expect(await phone.receive(64)).toEqual(bytes(11));
  });

  it('stalls a pending IN transfer at once when the endpoint halts, and clears with CLEAR_FEATURE', async () => {
    const { device, phoneSide, wires } = bareDevice();
    await openClaimed(device);
    const pending = device.transferIn(TETHER_IN_ENDPOINT, 64);
    wires[0]!.halt('in');
    expect((await pending).status).toBe('stall');
    await device.controlTransferOut({ requestType: 'standard', recipient: 'endpoint', request: 1, value: 0, index: 0x80 | TETHER_IN_ENDPOINT });
    await phoneSide().send(bytes(5));
    expect(viewBytes(await device.transferIn(TETHER_IN_ENDPOINT, 64))).toEqual(bytes(5));
  });
});

describe('fault: slow device', () => {
  it('takes a share of the bandwidth and adds latency', async () => {
    const { device, phoneSide, clock } = bareDevice({ speed: 'full', faults: { slow: { bandwidthFactor: 0.25, extraLatencyMs: 3 } } });
    await openClaimed(device);
    const t0 = clock.now();
    const sent = device.transferOut(TETHER_OUT_ENDPOINT, bytes(64 * 19 - 1)); // 19 packets = 1 ms at full speed
    await phoneSide().receive(2048);
    await sent;
    expect(clock.now() - t0).toBeCloseTo(4 + 1 + 3, 6); // 4× bus time, turnaround, extra latency
  });
});
