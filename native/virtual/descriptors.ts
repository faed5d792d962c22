import { BUILT_IN_CATALOGUE, type InterfaceTriple, type PhoneModel } from '../usb/catalogue';
import type { LinkSpeed } from './link-model';

/**
 * What a virtual phone says about itself on the bus. OUR MODEL (docs/virtual-phone.md): the
 * phones' real descriptors were never published (docs/reference.md §6 [U]); only Polycom's vendor
 * ID 0x095d is public [S39].
 *
 * Layout: configuration 1 with two interfaces, as a composite phone would have:
 *   0: HID (handset keys), one interrupt IN endpoint, owned by the OS's HID driver;
 *   1: the tether interface (class/subclass/protocol from the catalogue), bulk OUT 0x02 and
 *      bulk IN 0x83, wMaxPacketSize 512 at high speed and 64 at full speed.
 * The tether interface is deliberately not interface 0 and its endpoints have different numbers,
 * so host code that assumes either is caught.
 */

/** pid.codes, the open-source vendor ID; used when a model's vendor ID is not public. */
export const VIRTUAL_VENDOR_ID = 0x1209;

/** A model's product ID when it is not public: 0x5400 ('T' << 8) plus the model's catalogue position. */
export function virtualProductId(model: PhoneModel, catalogue = BUILT_IN_CATALOGUE): number {
  const index = catalogue.models.findIndex((m) => m.id === model.id);
  return 0x5400 + (index >= 0 ? index + 1 : 0xff);
}

export const TETHER_INTERFACE_NUMBER = 1;
export const HID_INTERFACE_NUMBER = 0;
export const TETHER_OUT_ENDPOINT = 2;
export const TETHER_IN_ENDPOINT = 3;
export const HID_IN_ENDPOINT = 1;
export const CONFIGURATION_VALUE = 1;

export interface DeviceDescription {
  readonly vendorId: number;
  readonly productId: number;
  /** bcdDevice, from the running firmware's major.minor (4.0.x → 0x0400). */
  readonly bcdDevice: number;
  readonly manufacturerName: string;
  readonly productName: string;
  readonly serialNumber: string;
  readonly speed: LinkSpeed;
  readonly tether: InterfaceTriple;
}

export interface EndpointDescription {
  readonly endpointNumber: number;
  readonly direction: USBDirection;
  readonly type: USBEndpointType;
  readonly packetSize: number;
  readonly interval: number;
}

export interface InterfaceDescription {
  readonly interfaceNumber: number;
  readonly interfaceClass: number;
  readonly interfaceSubclass: number;
  readonly interfaceProtocol: number;
  readonly interfaceName: string;
  /** An interface the operating system's own driver holds (claiming it fails as in a browser). */
  readonly protectedClass: boolean;
  readonly endpoints: readonly EndpointDescription[];
}

export function describeInterfaces(d: DeviceDescription): InterfaceDescription[] {
  const bulk = d.speed === 'high' ? 512 : 64;
  return [
    {
      interfaceNumber: HID_INTERFACE_NUMBER,
      interfaceClass: 3,
      interfaceSubclass: 0,
      interfaceProtocol: 0,
      interfaceName: 'Handset keys',
      protectedClass: true,
      endpoints: [{ endpointNumber: HID_IN_ENDPOINT, direction: 'in', type: 'interrupt', packetSize: 8, interval: d.speed === 'high' ? 7 : 10 }],
    },
    {
      interfaceNumber: TETHER_INTERFACE_NUMBER,
      interfaceClass: d.tether.class,
      interfaceSubclass: d.tether.subclass,
      interfaceProtocol: d.tether.protocol,
      interfaceName: 'Tether',
      protectedClass: false,
      endpoints: [
        { endpointNumber: TETHER_OUT_ENDPOINT, direction: 'out', type: 'bulk', packetSize: bulk, interval: 0 },
        { endpointNumber: TETHER_IN_ENDPOINT, direction: 'in', type: 'bulk', packetSize: bulk, interval: 0 },
      ],
    },
  ];
}

/** bcdDevice from a dotted firmware version: major (BCD, two digits) and minor (one digit). */
export function bcdFromVersion(version: string): number {
  const [major = '0', minor = '0'] = version.split('.');
  const ma = Math.min(99, Math.max(0, Number.parseInt(major, 10) || 0));
  const mi = Math.min(9, Math.max(0, Number.parseInt(minor, 10) || 0));
  return ((Math.floor(ma / 10) << 12) | ((ma % 10) << 8) | (mi << 4)) >>> 0;
}

// ---------------------------------------------------------------- binary descriptors (USB 2.0 §9.6)

/** String descriptor indexes. */
export const STRING_INDEX = { manufacturer: 1, product: 2, serial: 3, configuration: 4, hid: 5, tether: 6 } as const;

export function deviceDescriptorBytes(d: DeviceDescription): Uint8Array {
  const b = new Uint8Array(18);
  const v = new DataView(b.buffer);
  b[0] = 18;
  b[1] = 1; // DEVICE
  v.setUint16(2, 0x0200, true); // bcdUSB 2.00
  b[4] = 0; // class per interface
  b[5] = 0;
  b[6] = 0;
  b[7] = 64; // bMaxPacketSize0
  v.setUint16(8, d.vendorId, true);
  v.setUint16(10, d.productId, true);
  v.setUint16(12, d.bcdDevice, true);
  b[14] = STRING_INDEX.manufacturer;
  b[15] = STRING_INDEX.product;
  b[16] = STRING_INDEX.serial;
  b[17] = 1; // one configuration
  return b;
}

export function configurationDescriptorBytes(d: DeviceDescription): Uint8Array {
  const parts: number[][] = [];
  for (const itf of describeInterfaces(d)) {
    parts.push([9, 4, itf.interfaceNumber, 0, itf.endpoints.length, itf.interfaceClass, itf.interfaceSubclass, itf.interfaceProtocol,
      itf.interfaceNumber === HID_INTERFACE_NUMBER ? STRING_INDEX.hid : STRING_INDEX.tether]);
    if (itf.interfaceClass === 3) parts.push([9, 0x21, 0x11, 0x01, 0, 1, 0x22, 34, 0]); // HID 1.11, one report descriptor of 34 bytes
    for (const ep of itf.endpoints) {
      const address = ep.endpointNumber | (ep.direction === 'in' ? 0x80 : 0);
      const attributes = ep.type === 'bulk' ? 2 : ep.type === 'interrupt' ? 3 : 1;
      parts.push([7, 5, address, attributes, ep.packetSize & 0xff, ep.packetSize >> 8, ep.interval]);
    }
  }
  const body = parts.flat();
  const total = 9 + body.length;
  // bmAttributes: bus-independent (bit 7 set), self-powered (PoE); bMaxPower 0.
  return Uint8Array.from([9, 2, total & 0xff, total >> 8, 2, CONFIGURATION_VALUE, STRING_INDEX.configuration, 0xc0, 0, ...body]);
}

export function stringDescriptorBytes(d: DeviceDescription, index: number): Uint8Array | null {
  if (index === 0) return Uint8Array.from([4, 3, 0x09, 0x04]); // LANGID en-US
  const text =
    index === STRING_INDEX.manufacturer ? d.manufacturerName
    : index === STRING_INDEX.product ? d.productName
    : index === STRING_INDEX.serial ? d.serialNumber
    : index === STRING_INDEX.configuration ? 'Phone'
    : index === STRING_INDEX.hid ? 'Handset keys'
    : index === STRING_INDEX.tether ? 'Tether'
    : null;
  if (text === null) return null;
  const utf16 = Buffer.from(text.slice(0, 126), 'utf16le');
  const out = new Uint8Array(2 + utf16.byteLength);
  out[0] = out.byteLength;
  out[1] = 3;
  out.set(utf16, 2);
  return out;
}
