import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { findTetherInterface } from '../../../native/usb/endpoints';
import { UsbFrameLink } from '../../../native/usb/frame-link';
import { openTetherLink } from '../../../native/usb/open';
import { phoneDevice } from './fake-device';

function link(packetSize: number, inEp = 3, outEp = 5, queueDepth?: number) {
  const dev = phoneDevice({ inEp, outEp, packetSize });
  return { dev, link: new UsbFrameLink(dev.asUsbDevice(), findTetherInterface(dev), { queueDepth }) };
}

/** A send is queued at once; its transfer's failure fails the link: the pending receive and the next send reject. */
async function expectSendToFailLink(l: UsbFrameLink, code: string): Promise<void> {
  const pending = l.receive(64);
  await l.send(new Uint8Array(3));
  await expect(pending).rejects.toMatchObject({ code });
  await expect(l.send(new Uint8Array(1))).rejects.toMatchObject({ code });
  expect(l.isClosed).toBe(true);
}

describe('UsbFrameLink send: zero-length packet exactly at multiples of wMaxPacketSize', () => {
  for (const packetSize of [64, 512, 1024]) {
    it(`packet size ${packetSize}`, async () => {
      const { dev, link: l } = link(packetSize);
      const lengths = [1, packetSize - 1, packetSize, packetSize + 1, 2 * packetSize - 1, 2 * packetSize, 3 * packetSize, 16 * 1024 + 7, 16 * 1024];
      for (const n of lengths) {
        dev.out.length = 0;
        await l.send(new Uint8Array(n).fill(7));
        const expected = n % packetSize === 0 ? [n, 0] : [n];
        expect(dev.out.map((t) => t.data.byteLength), `length ${n}`).toEqual(expected);
        expect(dev.out.every((t) => t.endpoint === 5)).toBe(true);
      }
    });
  }

  it('keeps a frame and its ZLP together when sends overlap', async () => {
    const { dev, link: l } = link(64);
    await Promise.all([l.send(new Uint8Array(64)), l.send(new Uint8Array(10)), l.send(new Uint8Array(128))]);
    expect(dev.out.map((t) => t.data.byteLength)).toEqual([64, 0, 10, 128, 0]);
  });

  it('submits sends without waiting for earlier ones to complete (several transfers in flight)', async () => {
    const { dev, link: l } = link(64);
    const release: (() => void)[] = [];
    dev.outStatus = (d) => new Promise((resolve) => release.push(() => resolve({ status: 'ok', bytesWritten: d.byteLength })));
    const sends = [l.send(new Uint8Array(10)), l.send(new Uint8Array(64)), l.send(new Uint8Array(20))];
    await Promise.resolve();
    // All three frames (and the ZLP after the 64-byte one) are on the bus before any completes.
    expect(dev.out.map((t) => t.data.byteLength)).toEqual([10, 64, 0, 20]);
    for (const r of release) r();
    await Promise.all(sends);
  });

  it('a failed transfer fails the whole link: later sends and receives reject with the same error', async () => {
    const { dev, link: l } = link(64);
    dev.outStatus = async () => {
      throw new Error('transferOut error: Error: LIBUSB_ERROR_IO');
    };
    await expectSendToFailLink(l, 'USB_TRANSFER_FAILED');
  });

  it('waits when the transfer queue is full, and goes on as transfers complete', async () => {
    const { dev, link: l } = link(64, 3, 5, 2);
    const release: (() => void)[] = [];
    dev.outStatus = (d) => new Promise((resolve) => release.push(() => resolve({ status: 'ok', bytesWritten: d.byteLength })));
    await l.send(new Uint8Array(1));
    await l.send(new Uint8Array(2));
    let third = false;
    const waiting = l.send(new Uint8Array(3)).then(() => (third = true));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    // Queued all the same: the bus never waits for the caller.
    expect(dev.out.map((t) => t.data.byteLength)).toEqual([1, 2, 3]);
    release[0]!();
    await waiting;
    expect(third).toBe(true);
    for (const r of release.slice(1)) r();
  });

  it('also waits when the queued bytes pass queueBytes, whatever the count', async () => {
    const dev = phoneDevice({ inEp: 3, outEp: 5, packetSize: 64 });
    const l = new UsbFrameLink(dev.asUsbDevice(), findTetherInterface(dev), { queueDepth: 16, queueBytes: 1000 });
    const release: (() => void)[] = [];
    dev.outStatus = (d) => new Promise((resolve) => release.push(() => resolve({ status: 'ok', bytesWritten: d.byteLength })));
    await l.send(new Uint8Array(600));
    let second = false;
    const waiting = l.send(new Uint8Array(600)).then(() => (second = true));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    expect(dev.out.map((t) => t.data.byteLength)).toEqual([600, 600]);
    release[0]!();
    await waiting;
    expect(second).toBe(true);
    release[1]!();
  });

  it('refuses an empty frame', async () => {
    const { link: l } = link(64);
    await expect(l.send(new Uint8Array(0))).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('UsbFrameLink receive', () => {
  it('asks for whole packets strictly beyond maxLength and returns the frame', async () => {
    const { dev, link: l } = link(512);
    dev.queueIn(new Uint8Array([1, 2, 3]));
    expect([...(await l.receive(1024))]).toEqual([1, 2, 3]);
    expect(dev.inRequests).toEqual([1536]);
    dev.queueIn(new Uint8Array(10));
    await l.receive(1000);
    expect(dev.inRequests[1]).toBe(1024);
    expect(dev.calls).toContain('transferIn 3');
  });

  it('skips a stray zero-length transfer', async () => {
    const { dev, link: l } = link(64);
    dev.queueIn(new Uint8Array(0));
    dev.queueIn(new Uint8Array([9]));
    expect([...(await l.receive(100))]).toEqual([9]);
  });

  it('rejects a frame longer than maxLength', async () => {
    const { dev, link: l } = link(64);
    dev.queueIn(new Uint8Array(101));
    await expect(l.receive(100)).rejects.toMatchObject({ code: 'USB_FRAME_TOO_LONG', detail: { length: 101, maxLength: 100 } });
  });
});

describe('UsbFrameLink transfer statuses and faults', () => {
  it('stall on IN clears the halt on that endpoint, then raises USB_STALL', async () => {
    const { dev, link: l } = link(64, 0x0b, 0x0c);
    dev.queueIn('stall');
    await expect(l.receive(64)).rejects.toMatchObject({ code: 'USB_STALL', stage: null });
    expect(dev.calls).toContain('clearHalt in 11');
  });

  it('stall on OUT clears the halt on that endpoint, then raises USB_STALL', async () => {
    const { dev, link: l } = link(64, 1, 0x0e);
    dev.outStatus = async () => ({ status: 'stall', bytesWritten: 0 });
    await expectSendToFailLink(l, 'USB_STALL');
    expect(dev.calls.filter((c) => c.startsWith('clearHalt'))).toEqual(['clearHalt out 14']);
  });

  it('babble raises USB_BABBLE', async () => {
    const { dev, link: l } = link(64);
    dev.queueIn('babble');
    await expect(l.receive(64)).rejects.toMatchObject({ code: 'USB_BABBLE' });
  });

  it('a transfer status outside ok/stall/babble is a typed failure in both directions, never success', async () => {
    const inbound = link(64);
    inbound.dev.queueIn('halted' as USBTransferStatus);
    await expect(inbound.link.receive(64)).rejects.toMatchObject({ code: 'USB_TRANSFER_FAILED', detail: { status: 'halted' } });
    const outbound = link(64);
    outbound.dev.outStatus = async (d) => ({ status: undefined as unknown as USBTransferStatus, bytesWritten: d.byteLength });
    await expectSendToFailLink(outbound.link, 'USB_TRANSFER_FAILED');
  });

  it('a short write is a typed failure', async () => {
    const { dev, link: l } = link(64);
    dev.outStatus = async () => ({ status: 'ok', bytesWritten: 1 });
    await expectSendToFailLink(l, 'USB_TRANSFER_FAILED');
  });

  it('node-usb disconnect errors become USB_DISCONNECTED', async () => {
    const { dev, link: l } = link(64);
    dev.inQueue.push(async () => {
      throw new Error('transferIn error: Error: LIBUSB_TRANSFER_NO_DEVICE');
    });
    await expect(l.receive(64)).rejects.toMatchObject({ code: 'USB_DISCONNECTED' });
    const { dev: dev2, link: l2 } = link(64);
    dev2.outStatus = async () => {
      throw new Error('transferOut error: Error: LIBUSB_ERROR_NO_DEVICE');
    };
    await expectSendToFailLink(l2, 'USB_DISCONNECTED');
  });

  it('a hotplug detach rejects a pending receive at once', async () => {
    const { link: l } = link(64);
    const pending = l.receive(64);
    l.disconnected();
    await expect(pending).rejects.toMatchObject({ code: 'USB_DISCONNECTED' });
    await expect(l.send(new Uint8Array(1))).rejects.toMatchObject({ code: 'USB_DISCONNECTED' });
  });

  it('close does not wait forever for a send the phone never takes', async () => {
    const dev = phoneDevice({ inEp: 1, outEp: 2 });
    const l = await openTetherLink(dev.asUsbDevice(), undefined, { link: { closeGraceMs: 0 } });
    dev.outStatus = () => new Promise(() => {});
    await l.send(new Uint8Array(5));
    await l.close();
    expect(dev.calls.slice(-2)).toEqual(['releaseInterface 2', 'close']);
  });

  it('close rejects pending receives, releases the interface once, and is idempotent', async () => {
    const dev = phoneDevice({ inEp: 1, outEp: 2 });
    const l = await openTetherLink(dev.asUsbDevice());
    const pending = l.receive(64);
    await Promise.all([l.close(), l.close()]);
    await expect(pending).rejects.toMatchObject({ code: 'USB_LINK_CLOSED' });
    expect(dev.calls.filter((c) => c.startsWith('releaseInterface'))).toEqual(['releaseInterface 2']);
    expect(dev.calls.filter((c) => c === 'close')).toHaveLength(1);
    expect(l.isClosed).toBe(true);
    await expect(l.receive(64)).rejects.toBeInstanceOf(TetherError);
  });
});
