import { describe, expect, it } from 'vitest';
import { findTetherInterface, hasTetherInterface } from '../../../native/usb/endpoints';
import { TETHER_IN_ENDPOINT, TETHER_OUT_ENDPOINT } from '../../../native/virtual/descriptors';
import { bareDevice, bytes, openClaimed, viewBytes } from './helpers';

async function rejectsWith(p: Promise<unknown>, name: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof DOMException && e.name === name);
}

describe('VirtualUsbDevice descriptors', () => {
  it('offers the tether interface with one bulk IN and one bulk OUT endpoint sized by link speed', () => {
    for (const [speed, size] of [['high', 512], ['full', 64]] as const) {
      const { device } = bareDevice({ speed });
      expect(hasTetherInterface(device)).toBe(true);
      const found = findTetherInterface(device);
      expect(found).toEqual({
        configurationValue: 1,
        interfaceNumber: 1,
        alternateSetting: 0,
        in: { endpointNumber: TETHER_IN_ENDPOINT, packetSize: size },
        out: { endpointNumber: TETHER_OUT_ENDPOINT, packetSize: size },
      });
      expect(device.usbVersionMajor).toBe(2);
      expect(device.vendorId).toBe(0x095d);
      expect(device.deviceVersionMajor).toBe(4);
      expect(device.serialNumber).toBe('TEST0001');
      expect(device.configuration?.configurationValue).toBe(1);
    }
  });

  it('answers GET_DESCRIPTOR with binary descriptors that agree with the WebUSB objects', async () => {
    const { device } = bareDevice();
    await device.open();
    const dev = await device.controlTransferIn({ requestType: 'standard', recipient: 'device', request: 6, value: 0x0100, index: 0 }, 18);
    const d = viewBytes(dev);
    expect(d[1]).toBe(1);
    expect(d[8]! | (d[9]! << 8)).toBe(device.vendorId);
    expect(d[10]! | (d[11]! << 8)).toBe(device.productId);
    const cfg = viewBytes(await device.controlTransferIn({ requestType: 'standard', recipient: 'device', request: 6, value: 0x0200, index: 0 }, 255));
    expect(cfg[2]! | (cfg[3]! << 8)).toBe(cfg.byteLength);
    // Walk it: find the bulk endpoints of the interface with class 255/84/1.
    let at = 0;
    let inTether = false;
    const eps: number[] = [];
    while (at < cfg.byteLength) {
      const len = cfg[at]!;
      const type = cfg[at + 1]!;
      if (type === 4) inTether = cfg[at + 5] === 255 && cfg[at + 6] === 84 && cfg[at + 7] === 1;
      if (type === 5 && inTether) eps.push(cfg[at + 2]!, cfg[at + 4]! | (cfg[at + 5]! << 8));
      at += len;
    }
    expect(eps).toEqual([0x02, 512, 0x83, 512]);
    const serial = viewBytes(await device.controlTransferIn({ requestType: 'standard', recipient: 'device', request: 6, value: 0x0303, index: 0x0409 }, 255));
    expect(Buffer.from(serial.subarray(2)).toString('utf16le')).toBe('TEST0001');
    const vendor = await device.controlTransferIn({ requestType: 'vendor', recipient: 'device', request: 1, value: 0, index: 0 }, 8);
    expect(vendor.status).toBe('stall');
  });
});

describe('VirtualUsbDevice WebUSB state rules', () => {
  it('needs open before configuration, claim and transfers', async () => {
    const { device } = bareDevice();
    await rejectsWith(device.claimInterface(1), 'InvalidStateError');
    await rejectsWith(device.selectConfiguration(1), 'InvalidStateError');
    await rejectsWith(device.transferOut(TETHER_OUT_ENDPOINT, bytes(4)), 'InvalidStateError');
    await rejectsWith(device.transferIn(TETHER_IN_ENDPOINT, 64), 'InvalidStateError');
    await device.open();
    expect(device.opened).toBe(true);
    await device.open(); // idempotent
    await rejectsWith(device.selectConfiguration(2), 'NotFoundError');
    await device.selectConfiguration(1);
    await rejectsWith(device.claimInterface(7), 'NotFoundError');
    await rejectsWith(device.claimInterface(0), 'SecurityError'); // HID belongs to the OS
    await rejectsWith(device.transferOut(TETHER_OUT_ENDPOINT, bytes(4)), 'NotFoundError'); // not claimed
    await device.claimInterface(1);
    expect(device.configuration?.interfaces[1]?.claimed).toBe(true);
    await rejectsWith(device.transferOut(TETHER_IN_ENDPOINT, bytes(4)), 'NotFoundError'); // wrong direction
    await rejectsWith(device.selectAlternateInterface(1, 1), 'NotFoundError');
    await device.selectAlternateInterface(1, 0);
    await rejectsWith(device.isochronousTransferIn(1, [8]), 'NotSupportedError');
    await rejectsWith(device.forget(), 'NotSupportedError');
    await device.releaseInterface(1);
    expect(device.configuration?.interfaces[1]?.claimed).toBe(false);
    await device.close();
    expect(device.opened).toBe(false);
    await device.close(); // idempotent
  });

  it('fails claim with NetworkError when another program holds the interface', async () => {
    const { device } = bareDevice({ faults: { interfaceBusy: true } });
    await device.open();
    await rejectsWith(device.claimInterface(1), 'NetworkError');
  });

  it('aborts pending transfers on close', async () => {
    const { device } = bareDevice();
    await openClaimed(device);
    const pending = device.transferIn(TETHER_IN_ENDPOINT, 1024);
    await device.close();
    await rejectsWith(pending, 'AbortError');
  });

  it('is dead after detach: NotFoundError for pending and later calls', async () => {
    const { device } = bareDevice();
    await openClaimed(device);
    const pending = device.transferIn(TETHER_IN_ENDPOINT, 1024);
    device.detach();
    await rejectsWith(pending, 'NotFoundError');
    await rejectsWith(device.open(), 'NotFoundError');
    await rejectsWith(device.transferOut(TETHER_OUT_ENDPOINT, bytes(3)), 'NotFoundError');
    expect(device.opened).toBe(false);
  });
});

describe('VirtualUsbDevice transfer semantics', () => {
  it('delivers one OUT transfer as one frame when it ends in a short packet', async () => {
    const { device, phoneSide } = bareDevice();
    await openClaimed(device);
    const frame = bytes(1000);
    const r = await device.transferOut(TETHER_OUT_ENDPOINT, frame);
    expect(r).toEqual({ status: 'ok', bytesWritten: 1000 });
    expect(await phoneSide().receive(4096)).toEqual(frame);
  });

  it('needs a ZLP to end an OUT frame that fills its last packet; a lone ZLP is no frame', async () => {
    const { device, phoneSide } = bareDevice();
    await openClaimed(device);
    await device.transferOut(TETHER_OUT_ENDPOINT, new Uint8Array(0)); // stray ZLP
    const a = bytes(1024, 1);
    const b = bytes(10, 2);
    await device.transferOut(TETHER_OUT_ENDPOINT, a);
    // Without a ZLP the next transfer continues the same frame:
    await device.transferOut(TETHER_OUT_ENDPOINT, b);
    const merged = await phoneSide().receive(4096);
    expect(merged.byteLength).toBe(1034);
    await device.transferOut(TETHER_OUT_ENDPOINT, a);
    await device.transferOut(TETHER_OUT_ENDPOINT, new Uint8Array(0));
    await device.transferOut(TETHER_OUT_ENDPOINT, b);
    expect(await phoneSide().receive(4096)).toEqual(a);
    expect(await phoneSide().receive(4096)).toEqual(b);
  });

  it('ends an IN transfer at a short packet, a ZLP, or a full buffer; babble when a packet does not fit', async () => {
    const { device, phoneSide } = bareDevice();
    await openClaimed(device);
    const link = phoneSide();
    // Short packet ends the transfer even with a larger buffer.
    await link.send(bytes(700));
    let r = await device.transferIn(TETHER_IN_ENDPOINT, 4096);
    expect(r.status).toBe('ok');
    expect(viewBytes(r)).toEqual(bytes(700));
    // A frame that fills its packets is closed by the phone's ZLP.
    await link.send(bytes(1024));
    r = await device.transferIn(TETHER_IN_ENDPOINT, 4096);
    expect(viewBytes(r).byteLength).toBe(1024);
    // A buffer that is a multiple of the packet size fills up; the rest comes in the next transfer,
    // and the ZLP then arrives as an empty transfer.
    await link.send(bytes(1024));
    r = await device.transferIn(TETHER_IN_ENDPOINT, 512);
    expect(viewBytes(r)).toEqual(bytes(1024).subarray(0, 512));
    r = await device.transferIn(TETHER_IN_ENDPOINT, 512);
    expect(viewBytes(r)).toEqual(bytes(1024).subarray(512));
    r = await device.transferIn(TETHER_IN_ENDPOINT, 512);
    expect(r.status).toBe('ok');
    expect(viewBytes(r).byteLength).toBe(0);
    // A buffer that is not a multiple of the packet size overflows: babble.
    await link.send(bytes(600));
    r = await device.transferIn(TETHER_IN_ENDPOINT, 100);
    expect(r.status).toBe('babble');
  });

  it('keeps order with several transfers in flight in both directions', async () => {
    const { device, phoneSide } = bareDevice({ speed: 'full' });
    await openClaimed(device);
    const link = phoneSide();
    const frames = Array.from({ length: 20 }, (_, i) => bytes(100 + i * 37, i));
    const outs = frames.map((f) => device.transferOut(TETHER_OUT_ENDPOINT, f));
    const ins = frames.map(() => device.transferIn(TETHER_IN_ENDPOINT, 2048));
    for (const f of frames) {
      const got = await link.receive(4096);
      expect(got).toEqual(f);
      await link.send(got);
    }
    await Promise.all(outs);
    const back = await Promise.all(ins);
    expect(back.map(viewBytes)).toEqual(frames);
  });

  it('rejects a frame longer than the phone reads with USB_FRAME_TOO_LONG on the phone side', async () => {
    const { device, phoneSide } = bareDevice();
    await openClaimed(device);
    void device.transferOut(TETHER_OUT_ENDPOINT, bytes(300));
    await expect(phoneSide().receive(200)).rejects.toMatchObject({ code: 'USB_FRAME_TOO_LONG' });
  });

  it('reset aborts pending transfers and gives the phone a fresh link', async () => {
    const { device, wires } = bareDevice();
    await openClaimed(device);
    const pending = device.transferIn(TETHER_IN_ENDPOINT, 64);
    const oldLink = wires[0]!.deviceLink;
    const phoneRead = oldLink.receive(64);
    await device.reset();
    await rejectsWith(pending, 'AbortError');
    await expect(phoneRead).rejects.toMatchObject({ code: 'USB_DISCONNECTED' });
    expect(wires).toHaveLength(2);
    await device.transferOut(TETHER_OUT_ENDPOINT, bytes(5));
    expect(await wires[1]!.deviceLink.receive(64)).toEqual(bytes(5));
  });
});
