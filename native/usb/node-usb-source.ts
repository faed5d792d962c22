import { existsSync } from 'node:fs';
import { TetherError } from '../../common/errors';
import { BUILT_IN_CATALOGUE, type Catalogue } from './catalogue';
import { usbErrorFrom } from './errors';
import type { DeviceListener, DeviceSource, InaccessibleDevice } from './source';

/** The part of the `usb` package this module uses (typed here so the package loads lazily). */
interface UsbModule {
  WebUSB: new (options: { allowAllDevices: boolean }) => USB;
  getDeviceList(): RawDevice[];
}

interface RawDevice {
  deviceDescriptor: { idVendor: number; idProduct: number };
  allConfigDescriptors: { interfaces: { bInterfaceClass: number; bInterfaceSubClass: number; bInterfaceProtocol: number }[][] }[];
  open(defaultConfig?: boolean): void;
  close(): void;
}

/** Seams for tests: how to load the package and how to tell whether a bus exists. */
export interface NodeUsbOptions {
  readonly load?: () => Promise<unknown>;
  readonly platform?: NodeJS.Platform;
  readonly busPresent?: () => boolean;
  readonly catalogue?: Catalogue;
}

/**
 * On Linux libusb enumerates /dev/bus/usb (with sysfs); measured on a container without it:
 * `usb` loads, getDeviceList() returns [] and hotplug registers without error, so a missing bus
 * looks exactly like "no phone". We look for the bus ourselves to say which it is.
 */
function defaultBusPresent(platform: NodeJS.Platform): boolean {
  if (platform !== 'linux') return true;
  return existsSync('/dev/bus/usb') || existsSync('/sys/bus/usb/devices');
}

function isUsbModule(m: unknown): m is UsbModule {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return typeof r.WebUSB === 'function' && typeof r.getDeviceList === 'function';
}

/**
 * Loads node-usb on first use. A machine without libusb, or without a USB bus, gets a typed error
 * (USB_UNAVAILABLE / USB_NO_BUS) instead of a crash; virtual phones work either way.
 */
export async function openNodeUsbSource(options: NodeUsbOptions = {}): Promise<NodeUsbSource> {
  const platform = options.platform ?? process.platform;
  const busPresent = options.busPresent ?? (() => defaultBusPresent(platform));
  if (!busPresent()) {
    throw new TetherError('USB_NO_BUS', undefined, { detail: { platform } });
  }
  let loaded: unknown;
  try {
    loaded = await (options.load ?? (() => import('usb')))();
  } catch (err) {
    throw new TetherError('USB_UNAVAILABLE', undefined, { detail: { platform, reason: err instanceof Error ? err.message : String(err) }, cause: err });
  }
  const mod = isUsbModule(loaded) ? loaded : isUsbModule((loaded as { default?: unknown } | null)?.default) ? (loaded as { default: UsbModule }).default : null;
  if (!mod) throw new TetherError('USB_UNAVAILABLE', undefined, { detail: { platform, reason: 'the usb package has no WebUSB' } });
  let webusb: USB;
  try {
    webusb = new mod.WebUSB({ allowAllDevices: true });
  } catch (err) {
    throw new TetherError('USB_UNAVAILABLE', undefined, { detail: { platform, reason: err instanceof Error ? err.message : String(err) }, cause: err });
  }
  return new NodeUsbSource(mod, webusb, platform, options.catalogue ?? BUILT_IN_CATALOGUE);
}

/** Real phones on the USB bus, through node-usb's W3C WebUSB (connect/disconnect = hotplug). */
export class NodeUsbSource implements DeviceSource {
  readonly kind = 'usb' as const;
  private readonly unsubscribers = new Set<() => void>();

  constructor(
    private readonly mod: UsbModule,
    private readonly webusb: USB,
    private readonly platform: NodeJS.Platform,
    private readonly catalogue: Catalogue,
  ) {}

  async list(): Promise<USBDevice[]> {
    try {
      return await this.webusb.getDevices();
    } catch (err) {
      throw usbErrorFrom(err, 'list', this.platform);
    }
  }

  onConnect(listener: DeviceListener): () => void {
    return this.subscribe('connect', listener);
  }

  onDisconnect(listener: DeviceListener): () => void {
    return this.subscribe('disconnect', listener);
  }

  /**
   * Phones that are on the bus but missing from WebUSB's list. node-usb's WebUSB opens every
   * device to read its strings and silently drops the ones it cannot open, so without this a
   * permission problem would look like "no phone". The descriptors are readable without opening.
   */
  async inaccessible(): Promise<InaccessibleDevice[]> {
    // Counted per vendor:product, so one of two identical phones that WebUSB dropped is still found.
    const key = (vendorId: number, productId: number): string => `${vendorId}:${productId}`;
    const visible = new Map<string, number>();
    for (const d of await this.list()) visible.set(key(d.vendorId, d.productId), (visible.get(key(d.vendorId, d.productId)) ?? 0) + 1);
    const t = this.catalogue.tetherInterface;
    const phones: RawDevice[] = [];
    const onBus = new Map<string, number>();
    for (const raw of this.mod.getDeviceList()) {
      let configs: RawDevice['allConfigDescriptors'];
      try {
        configs = raw.allConfigDescriptors;
      } catch {
        continue;
      }
      const isPhone = configs.some((c) => c.interfaces.some((alts) => alts.some((a) => a.bInterfaceClass === t.class && a.bInterfaceSubClass === t.subclass && a.bInterfaceProtocol === t.protocol)));
      if (!isPhone) continue;
      phones.push(raw);
      const id = key(raw.deviceDescriptor.idVendor, raw.deviceDescriptor.idProduct);
      onBus.set(id, (onBus.get(id) ?? 0) + 1);
    }
    const out: InaccessibleDevice[] = [];
    for (const raw of phones) {
      const { idVendor, idProduct } = raw.deviceDescriptor;
      const id = key(idVendor, idProduct);
      // WebUSB lists every phone of this id: none was dropped. Otherwise try each; those that open are fine.
      if (onBus.get(id)! <= (visible.get(id) ?? 0)) continue;
      try {
        raw.open(false);
        raw.close();
      } catch (err) {
        out.push({ vendorId: idVendor, productId: idProduct, error: usbErrorFrom(err, 'open', this.platform) });
      }
    }
    return out;
  }

  close(): void {
    for (const u of [...this.unsubscribers]) u();
  }

  private subscribe(type: 'connect' | 'disconnect', listener: DeviceListener): () => void {
    const handler = (event: USBConnectionEvent): void => listener(event.device);
    this.webusb.addEventListener(type, handler);
    const unsubscribe = (): void => {
      this.webusb.removeEventListener(type, handler);
      this.unsubscribers.delete(unsubscribe);
    };
    this.unsubscribers.add(unsubscribe);
    return unsubscribe;
  }
}
