import type { Clock } from './clock';
import type { VirtualPhoneHost } from './create';
import {
  CONFIGURATION_VALUE,
  configurationDescriptorBytes,
  describeInterfaces,
  deviceDescriptorBytes,
  stringDescriptorBytes,
  TETHER_INTERFACE_NUMBER,
  type DeviceDescription,
  type InterfaceDescription,
} from './descriptors';
import type { VirtualFaults } from './faults';
import type { LinkModel } from './link-model';
import { usbErrors } from './usb-errors';
import { UsbWire } from './wire';

export interface VirtualUsbDeviceOptions {
  readonly description: DeviceDescription;
  readonly link: LinkModel;
  readonly clock: Clock;
  readonly faults: VirtualFaults;
  /** A new phone-side link is up (at enumeration and after each bus reset): start a session on it. */
  readonly onWire: (wire: UsbWire) => void;
  /** A fault pulled the cable. */
  readonly onUnplug: () => void;
}

type DeviceState = 'attached' | 'detached';

/** WebUSB's BufferSource (the DOM lib is not in this project's tsconfig). */
type Bytes = ArrayBufferView | ArrayBuffer;

class VirtualEndpoint implements USBEndpoint {
  constructor(
    readonly endpointNumber: number,
    readonly direction: USBDirection,
    readonly type: USBEndpointType,
    readonly packetSize: number,
  ) {}
}

class VirtualAlternate implements USBAlternateInterface {
  readonly alternateSetting = 0;
  readonly interfaceClass: number;
  readonly interfaceSubclass: number;
  readonly interfaceProtocol: number;
  readonly interfaceName: string | null;
  readonly endpoints: USBEndpoint[];

  constructor(d: InterfaceDescription) {
    this.interfaceClass = d.interfaceClass;
    this.interfaceSubclass = d.interfaceSubclass;
    this.interfaceProtocol = d.interfaceProtocol;
    this.interfaceName = d.interfaceName;
    this.endpoints = d.endpoints.map((e) => new VirtualEndpoint(e.endpointNumber, e.direction, e.type, e.packetSize));
  }
}

class VirtualInterface implements USBInterface {
  readonly interfaceNumber: number;
  readonly alternate: USBAlternateInterface;
  readonly alternates: USBAlternateInterface[];

  constructor(
    readonly description: InterfaceDescription,
    private readonly isClaimed: (n: number) => boolean,
  ) {
    this.interfaceNumber = description.interfaceNumber;
    this.alternate = new VirtualAlternate(description);
    this.alternates = [this.alternate];
  }

  /** Live, as in WebUSB: true while this page/process holds the interface. */
  get claimed(): boolean {
    return this.isClaimed(this.interfaceNumber);
  }
}

class VirtualConfiguration implements USBConfiguration {
  readonly configurationValue = CONFIGURATION_VALUE;
  readonly configurationName = 'Phone';
  constructor(readonly interfaces: USBInterface[]) {}
}

function versionParts(bcd: number): [number, number, number] {
  return [((bcd >> 12) & 0xf) * 10 + ((bcd >> 8) & 0xf), (bcd >> 4) & 0xf, bcd & 0xf];
}

function bytesOf(data: Bytes | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/**
 * One enumeration of a virtual phone as a W3C WebUSB `USBDevice`, interchangeable with node-usb's
 * `WebUSBDevice`. Errors are the DOMExceptions a browser raises. After the phone is unplugged or
 * reboots this object is dead (NotFoundError), as a real one is; the phone comes back as a new
 * `USBDevice` with the same serial number.
 */
export class VirtualUsbDevice implements USBDevice {
  readonly usbVersionMajor = 2;
  readonly usbVersionMinor = 0;
  readonly usbVersionSubminor = 0;
  readonly deviceClass = 0;
  readonly deviceSubclass = 0;
  readonly deviceProtocol = 0;
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceVersionMajor: number;
  readonly deviceVersionMinor: number;
  readonly deviceVersionSubminor: number;
  readonly manufacturerName: string | null;
  readonly productName: string | null;
  readonly serialNumber: string | null;
  readonly configurations: USBConfiguration[];
  /** The link model of this attachment (its packet size and capacity). */
  readonly link: LinkModel;
  /** The phone behind this device (unplug, reboot, faults, state); null for a bare device. */
  host: VirtualPhoneHost | null = null;

  private state: DeviceState = 'attached';
  private isOpen = false;
  private readonly claimedInterfaces = new Set<number>();
  private wireNow: UsbWire;
  private readonly options: VirtualUsbDeviceOptions;

  constructor(options: VirtualUsbDeviceOptions) {
    this.options = options;
    const d = options.description;
    this.link = options.link;
    this.vendorId = d.vendorId;
    this.productId = d.productId;
    [this.deviceVersionMajor, this.deviceVersionMinor, this.deviceVersionSubminor] = versionParts(d.bcdDevice);
    this.manufacturerName = d.manufacturerName;
    this.productName = d.productName;
    this.serialNumber = d.serialNumber;
    const interfaces = describeInterfaces(d).map((i) => new VirtualInterface(i, (n) => this.claimedInterfaces.has(n)));
    this.configurations = [new VirtualConfiguration(interfaces)];
    this.wireNow = this.newWire();
  }

  /** Payload bytes per second this attachment's bus carries when it never idles. */
  get capacityBytesPerSecond(): number {
    return this.link.capacityBytesPerSecond;
  }

  /** The bulk pipes of this attachment (tests and the owner look at counters and the bus). */
  get wire(): UsbWire {
    return this.wireNow;
  }

  get attached(): boolean {
    return this.state === 'attached';
  }

  get configuration(): USBConfiguration | null {
    // The operating system configures a device when it enumerates it.
    return this.state === 'attached' ? this.configurations[0]! : null;
  }

  get opened(): boolean {
    return this.isOpen;
  }

  /** The phone leaves the bus (cable pulled, reboot). Everything pending or later fails. Idempotent. */
  detach(): void {
    if (this.state === 'detached') return;
    this.state = 'detached';
    this.isOpen = false;
    this.claimedInterfaces.clear();
    this.wireNow.end('unplugged');
  }

  // ---------------------------------------------------------------- WebUSB methods

  async open(): Promise<void> {
    this.checkAttached();
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.checkAttached();
    if (!this.isOpen) return;
    this.wireNow.abortHostTransfers();
    this.claimedInterfaces.clear();
    this.isOpen = false;
  }

  async forget(): Promise<void> {
    throw usbErrors.notSupported('forget()');
  }

  async selectConfiguration(configurationValue: number): Promise<void> {
    this.checkOpen();
    if (configurationValue !== CONFIGURATION_VALUE) throw usbErrors.configurationNotFound();
    // Selecting the active configuration again is a no-op, as in node-usb and browsers.
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    this.checkOpen();
    const itf = this.findInterface(interfaceNumber);
    if (this.claimedInterfaces.has(interfaceNumber)) return;
    if (itf.description.protectedClass) {
      throw new DOMException('The requested interface implements a protected class.', 'SecurityError');
    }
    if (this.options.faults.interfaceBusy) throw usbErrors.claimFailed();
    this.claimedInterfaces.add(interfaceNumber);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.checkOpen();
    this.findInterface(interfaceNumber);
    if (!this.claimedInterfaces.delete(interfaceNumber)) return;
    // Transfers pending on the released interface's endpoints are cancelled, as in a browser.
    if (interfaceNumber === TETHER_INTERFACE_NUMBER) this.wireNow.abortHostTransfers();
  }

  async selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
    this.checkOpen();
    this.findInterface(interfaceNumber);
    if (!this.claimedInterfaces.has(interfaceNumber)) throw usbErrors.interfaceNotClaimed();
    if (alternateSetting !== 0) throw usbErrors.alternateNotFound();
  }

  async controlTransferIn(setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    this.checkOpen();
    this.checkLength(length);
    this.checkControlRecipient(setup);
    const reply = this.standardRequestIn(setup);
    if (!reply) return { status: 'stall' };
    const data = reply.slice(0, length);
    return { status: 'ok', data: new DataView(data.buffer, data.byteOffset, data.byteLength) };
  }

  async controlTransferOut(setup: USBControlTransferParameters, data?: Bytes): Promise<USBOutTransferResult> {
    this.checkOpen();
    this.checkControlRecipient(setup);
    const bytes = bytesOf(data);
    // CLEAR_FEATURE(ENDPOINT_HALT) is how libusb (and node-usb's clearHalt) clears a halt.
    if (setup.requestType === 'standard' && setup.recipient === 'endpoint' && setup.request === 0x01 && setup.value === 0) {
      const direction: USBDirection = setup.index & 0x80 ? 'in' : 'out';
      this.findEndpoint(setup.index & 0x0f, direction);
      this.wireNow.clearHalt(direction);
      return { status: 'ok', bytesWritten: bytes.byteLength };
    }
    // SET_CONFIGURATION to the only configuration is accepted; every other request is not ours.
    if (setup.requestType === 'standard' && setup.recipient === 'device' && setup.request === 0x09 && setup.value === CONFIGURATION_VALUE) {
      return { status: 'ok', bytesWritten: bytes.byteLength };
    }
    return { status: 'stall', bytesWritten: 0 };
  }

  async clearHalt(direction: USBDirection, endpointNumber: number): Promise<void> {
    this.checkOpen();
    this.findEndpoint(endpointNumber, direction);
    this.wireNow.clearHalt(direction);
  }

  async transferIn(endpointNumber: number, length: number): Promise<USBInTransferResult> {
    this.checkOpen();
    this.checkLength(length);
    this.findEndpoint(endpointNumber, 'in');
    return this.wireNow.transferIn(length);
  }

  async transferOut(endpointNumber: number, data: Bytes): Promise<USBOutTransferResult> {
    this.checkOpen();
    this.findEndpoint(endpointNumber, 'out');
    return this.wireNow.transferOut(bytesOf(data));
  }

  async isochronousTransferIn(_endpointNumber: number, _packetLengths: number[]): Promise<USBIsochronousInTransferResult> {
    throw usbErrors.notSupported('isochronousTransferIn()');
  }

  async isochronousTransferOut(_endpointNumber: number, _data: Bytes, _packetLengths: number[]): Promise<USBIsochronousOutTransferResult> {
    throw usbErrors.notSupported('isochronousTransferOut()');
  }

  /** A USB bus reset: pending transfers abort, halts clear, the phone restarts its side of the link. */
  async reset(): Promise<void> {
    this.checkOpen();
    this.wireNow.end('reset');
    this.wireNow = this.newWire();
  }

  // ---------------------------------------------------------------- helpers

  private newWire(): UsbWire {
    const wire = new UsbWire({
      model: this.link,
      clock: this.options.clock,
      faults: this.options.faults,
      onUnplug: () => this.options.onUnplug(),
    });
    this.options.onWire(wire);
    return wire;
  }

  private checkAttached(): void {
    if (this.state !== 'attached') throw usbErrors.disconnected();
  }

  private checkOpen(): void {
    this.checkAttached();
    if (!this.isOpen) throw usbErrors.notOpened();
  }

  private checkLength(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) throw new TypeError('The length must be a non-negative integer.');
  }

  private findInterface(interfaceNumber: number): VirtualInterface {
    const itf = this.configurations[0]!.interfaces.find((i) => i.interfaceNumber === interfaceNumber);
    if (!itf) throw usbErrors.interfaceNotFound();
    return itf as VirtualInterface;
  }

  /** The endpoint must belong to a claimed interface, as WebUSB requires. */
  private findEndpoint(endpointNumber: number, direction: USBDirection): USBEndpoint {
    for (const itf of this.configurations[0]!.interfaces) {
      if (!this.claimedInterfaces.has(itf.interfaceNumber)) continue;
      const ep = itf.alternate.endpoints.find((e) => e.endpointNumber === endpointNumber && e.direction === direction);
      if (ep) {
        if (ep.type !== 'bulk' && ep.type !== 'interrupt') throw usbErrors.endpointWrongType();
        return ep;
      }
    }
    throw usbErrors.endpointNotFound();
  }

  private checkControlRecipient(setup: USBControlTransferParameters): void {
    if (setup.recipient === 'interface') {
      const n = setup.index & 0xff;
      this.findInterface(n);
      if (!this.claimedInterfaces.has(n)) throw usbErrors.interfaceNotClaimed();
    } else if (setup.recipient === 'endpoint') {
      this.findEndpoint(setup.index & 0x0f, setup.index & 0x80 ? 'in' : 'out');
    }
  }

  private standardRequestIn(setup: USBControlTransferParameters): Uint8Array | null {
    if (setup.requestType !== 'standard') return null;
    const d = this.options.description;
    if (setup.request === 0x00) {
      // GET_STATUS: the device is self-powered (PoE); interfaces and endpoints report 0 or halt.
      if (setup.recipient === 'device') return Uint8Array.from([1, 0]);
      if (setup.recipient === 'endpoint') return Uint8Array.from([this.wireNow.isHalted(setup.index & 0x80 ? 'in' : 'out') ? 1 : 0, 0]);
      return Uint8Array.from([0, 0]);
    }
    if (setup.request === 0x06 && setup.recipient === 'device') {
      const type = setup.value >> 8;
      const index = setup.value & 0xff;
      if (type === 1) return deviceDescriptorBytes(d);
      if (type === 2 && index === 0) return configurationDescriptorBytes(d);
      if (type === 3) return stringDescriptorBytes(d, index);
      return null;
    }
    if (setup.request === 0x08 && setup.recipient === 'device') return Uint8Array.from([CONFIGURATION_VALUE]);
    return null;
  }
}
