import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { usbErrorFrom } from '../../../native/usb/errors';
import { openNodeUsbSource } from '../../../native/usb/node-usb-source';
import { openTetherLink } from '../../../native/usb/open';
import { bulk, configuration, FakeDevice, phoneDevice, TETHER } from './fake-device';

const named = (name: string, message = 'x'): Error => Object.assign(new Error(message), { name });

describe('usbErrorFrom: every node-usb and WebUSB failure gets a distinct typed error', () => {
  const cases: [unknown, Parameters<typeof usbErrorFrom>[1], string][] = [
    [new Error('open error: Error: LIBUSB_ERROR_ACCESS'), 'open', 'USB_NO_PERMISSION'],
    [new Error('claimInterface error: Error: LIBUSB_ERROR_BUSY'), 'claim', 'USB_INTERFACE_BUSY'],
    [new Error('open error: Error: LIBUSB_ERROR_NOT_SUPPORTED'), 'open', 'USB_NO_DRIVER'],
    [new Error('transferIn error: Error: LIBUSB_TRANSFER_NO_DEVICE'), 'transfer-in', 'USB_DISCONNECTED'],
    [new Error('LIBUSB_ERROR_NO_DEVICE'), 'transfer-out', 'USB_DISCONNECTED'],
    [new Error('transferIn error: Error: LIBUSB_ERROR_PIPE'), 'transfer-in', 'USB_STALL'],
    [new Error('LIBUSB_TRANSFER_OVERFLOW'), 'transfer-in', 'USB_BABBLE'],
    [new Error('LIBUSB_TRANSFER_TIMED_OUT'), 'transfer-in', 'TIMEOUT'],
    [new Error('LIBUSB_TRANSFER_CANCELLED'), 'transfer-in', 'USB_LINK_CLOSED'],
    [new Error('LIBUSB_ERROR_IO'), 'transfer-out', 'USB_TRANSFER_FAILED'],
    [named('SecurityError'), 'open', 'USB_NO_PERMISSION'],
    [named('NetworkError', 'Unable to claim interface.'), 'claim', 'USB_INTERFACE_BUSY'],
    [named('NetworkError', 'A transfer error has occurred.'), 'transfer-in', 'USB_DISCONNECTED'],
    [named('NotFoundError', 'The device was disconnected.'), 'transfer-out', 'USB_DISCONNECTED'],
    [named('NotFoundError', 'The device was disconnected.'), 'claim', 'USB_DISCONNECTED'],
    [named('NotFoundError', 'The interface number provided is not supported by the device in its current configuration.'), 'claim', 'USB_NOT_A_PHONE'],
    [named('AbortError', 'The transfer was cancelled.'), 'transfer-in', 'USB_LINK_CLOSED'],
    [named('NotAllowedError', 'Access denied.'), 'open', 'USB_NO_PERMISSION'],
    [named('InvalidStateError', 'The device must be opened first.'), 'transfer-out', 'USB_LINK_CLOSED'],
    [named('InvalidStateError', 'The specified interface has not been claimed.'), 'transfer-in', 'USB_LINK_CLOSED'],
    [named('InvalidStateError', 'An operation that changes the device state is in progress.'), 'claim', 'USB_TRANSFER_FAILED'],
    [named('DataError', 'The buffer is too large.'), 'transfer-out', 'USB_TRANSFER_FAILED'],
    ['weird', 'transfer-out', 'USB_TRANSFER_FAILED'],
  ];
  for (const [err, op, code] of cases) {
    it(`${String(err instanceof Error ? err.name + ': ' + err.message : err)} during ${op} → ${code}`, () => {
      const e = usbErrorFrom(err, op, 'linux');
      expect(e.code).toBe(code);
      expect(e.stage).toBeNull();
      expect(e.fix.length).toBeGreaterThan(10);
      expect(e.detail.op).toBe(op);
    });
  }

  it('keeps a TetherError as it is', () => {
    const t = new TetherError('USB_STALL');
    expect(usbErrorFrom(t, 'open')).toBe(t);
  });

  it('names the udev rule on Linux and WinUSB/Zadig on Windows', () => {
    const access = new Error('open error: Error: LIBUSB_ERROR_ACCESS');
    expect(usbErrorFrom(access, 'open', 'linux').message).toMatch(/70-tether\.rules.*udevadm/);
    expect(usbErrorFrom(access, 'open', 'win32').message).toMatch(/Zadig.*WinUSB/);
    expect(usbErrorFrom(new Error('LIBUSB_ERROR_NOT_SUPPORTED'), 'claim', 'win32').message).toMatch(/Zadig/);
    expect(usbErrorFrom(access, 'open', 'linux').fix).toMatch(/udev/);
  });
});

describe('openTetherLink', () => {
  it('selects the configuration, claims the interface and its alternate', async () => {
    const dev = new FakeDevice(
      [configuration(1, []), configuration(3, [{ number: 4, alternates: [{ class: 2, subclass: 2, protocol: 0, endpoints: [] }, { ...TETHER, endpoints: [bulk(2, 'in'), bulk(2, 'out')] }] }])],
      1,
    );
    const l = await openTetherLink(dev.asUsbDevice());
    expect(dev.calls).toEqual(['open', 'selectConfiguration 3', 'claimInterface 4', 'selectAlternateInterface 4 1']);
    await l.close();
  });

  it('resets the device before claiming when asked (re-attach after a failed session)', async () => {
    const dev = phoneDevice();
    await openTetherLink(dev.asUsbDevice(), undefined, { reset: true });
    expect(dev.calls).toEqual(['open', 'reset', 'claimInterface 2']);
  });

  it('does not reselect the active configuration', async () => {
    const dev = phoneDevice();
    await openTetherLink(dev.asUsbDevice());
    expect(dev.calls).toEqual(['open', 'claimInterface 2']);
  });

  it('permission denied at open → USB_NO_PERMISSION', async () => {
    const dev = phoneDevice();
    dev.fail.open = new Error('open error: Error: LIBUSB_ERROR_ACCESS');
    await expect(openTetherLink(dev.asUsbDevice())).rejects.toMatchObject({ code: 'USB_NO_PERMISSION' });
  });

  it('interface held by another program → USB_INTERFACE_BUSY, and the device is closed again', async () => {
    const dev = phoneDevice();
    dev.fail.claimInterface = new Error('claimInterface error: Error: LIBUSB_ERROR_BUSY');
    await expect(openTetherLink(dev.asUsbDevice())).rejects.toMatchObject({ code: 'USB_INTERFACE_BUSY' });
    expect(dev.calls.at(-1)).toBe('close');
  });

  it('a device without the interface → USB_NOT_A_PHONE before opening it', async () => {
    const dev = new FakeDevice([configuration(1, [{ number: 0, alternates: [{ class: 8, subclass: 6, protocol: 80, endpoints: [bulk(1, 'in'), bulk(2, 'out')] }] }])]);
    await expect(openTetherLink(dev.asUsbDevice())).rejects.toMatchObject({ code: 'USB_NOT_A_PHONE' });
    expect(dev.calls).toEqual([]);
  });
});

describe('node-usb source', () => {
  it('no USB bus → USB_NO_BUS without loading the package', async () => {
    let loaded = false;
    const err = await openNodeUsbSource({ busPresent: () => false, platform: 'linux', load: async () => { loaded = true; return {}; } }).catch((e: unknown) => e);
    expect(TetherError.is(err, 'USB_NO_BUS')).toBe(true);
    expect(loaded).toBe(false);
  });

  it('libusb that will not load → USB_UNAVAILABLE, never a crash', async () => {
    const err = await openNodeUsbSource({ busPresent: () => true, load: async () => { throw new Error('libusb-1.0.so.0: cannot open shared object file'); } }).catch((e: unknown) => e);
    expect(TetherError.is(err, 'USB_UNAVAILABLE')).toBe(true);
    expect((err as TetherError).detail.reason).toMatch(/libusb/);
    const notUsb = await openNodeUsbSource({ busPresent: () => true, load: async () => ({ default: 42 }) }).catch((e: unknown) => e);
    expect(TetherError.is(notUsb, 'USB_UNAVAILABLE')).toBe(true);
  });

  it('on this machine: the real package either lists devices or reports the missing bus as USB_NO_BUS', async () => {
    const { existsSync } = await import('node:fs');
    const bus = process.platform !== 'linux' || existsSync('/dev/bus/usb') || existsSync('/sys/bus/usb/devices');
    const result = await openNodeUsbSource().then(
      async (s) => {
        const list = await s.list();
        s.close();
        return list;
      },
      (e: unknown) => e,
    );
    if (bus) expect(Array.isArray(result)).toBe(true);
    else expect(TetherError.is(result, 'USB_NO_BUS')).toBe(true);
  });

  it('follows hotplug through WebUSB connect/disconnect and stops listening on close', async () => {
    const listeners = new Map<string, Set<(e: { device: USBDevice }) => void>>();
    const mod = {
      WebUSB: class {
        async getDevices() {
          return [];
        }
        addEventListener(type: string, l: (e: { device: USBDevice }) => void) {
          if (!listeners.has(type)) listeners.set(type, new Set());
          listeners.get(type)!.add(l);
        }
        removeEventListener(type: string, l: (e: { device: USBDevice }) => void) {
          listeners.get(type)?.delete(l);
        }
      },
      getDeviceList: () => [],
    };
    const source = await openNodeUsbSource({ busPresent: () => true, load: async () => mod });
    const seen: string[] = [];
    source.onConnect((d) => seen.push(`+${d.serialNumber}`));
    source.onDisconnect((d) => seen.push(`-${d.serialNumber}`));
    const dev = phoneDevice().asUsbDevice();
    for (const l of listeners.get('connect')!) l({ device: dev });
    for (const l of listeners.get('disconnect')!) l({ device: dev });
    expect(seen).toEqual(['+SN1', '-SN1']);
    source.close();
    expect([...listeners.values()].every((s) => s.size === 0)).toBe(true);
  });

  it('reports a phone that WebUSB dropped because it could not be opened', async () => {
    const raw = (vendor: number, cls: number, openError?: string) => ({
      deviceDescriptor: { idVendor: vendor, idProduct: 1 },
      allConfigDescriptors: [{ interfaces: [[{ bInterfaceClass: cls, bInterfaceSubClass: cls === 255 ? 84 : 0, bInterfaceProtocol: 1 }]] }],
      open() {
        if (openError) throw Object.assign(new Error(openError), { errno: -3 });
      },
      close() {},
    });
    const mod = {
      WebUSB: class {
        async getDevices() {
          return [];
        }
        addEventListener() {}
        removeEventListener() {}
      },
      getDeviceList: () => [raw(0x095d, 255, 'LIBUSB_ERROR_ACCESS'), raw(0x046d, 3, 'LIBUSB_ERROR_ACCESS'), raw(0x03f0, 255)],
    };
    const source = await openNodeUsbSource({ busPresent: () => true, platform: 'linux', load: async () => mod });
    const found = await source.inaccessible();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ vendorId: 0x095d, error: { code: 'USB_NO_PERMISSION' } });
  });

  it('finds the one of two identical phones that WebUSB dropped', async () => {
    const raw = (openError?: string) => ({
      deviceDescriptor: { idVendor: 0x095d, idProduct: 1 },
      allConfigDescriptors: [{ interfaces: [[{ bInterfaceClass: 255, bInterfaceSubClass: 84, bInterfaceProtocol: 1 }]] }],
      open() {
        if (openError) throw Object.assign(new Error(openError), { errno: -3 });
      },
      close() {},
    });
    const visible = { ...phoneDevice().asUsbDevice(), vendorId: 0x095d, productId: 1 } as USBDevice;
    const mod = {
      WebUSB: class {
        async getDevices() {
          return [visible];
        }
        addEventListener() {}
        removeEventListener() {}
      },
      getDeviceList: () => [raw(), raw('LIBUSB_ERROR_ACCESS')],
    };
    const source = await openNodeUsbSource({ busPresent: () => true, platform: 'linux', load: async () => mod });
    const found = await source.inaccessible();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ vendorId: 0x095d, productId: 1, error: { code: 'USB_NO_PERMISSION' } });
  });
});
