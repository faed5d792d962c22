/** A scriptable W3C USBDevice for the USB boundary's tests (descriptors + recorded transfers). */

export interface FakeEndpoint {
  endpointNumber: number;
  direction: USBDirection;
  type: USBEndpointType;
  packetSize: number;
}

export interface FakeAlternate {
  alternateSetting?: number;
  class: number;
  subclass: number;
  protocol: number;
  endpoints: FakeEndpoint[];
}

export function configuration(value: number, interfaces: { number: number; alternates: FakeAlternate[] }[]): USBConfiguration {
  return {
    configurationValue: value,
    configurationName: null,
    interfaces: interfaces.map((i) => {
      const alternates = i.alternates.map(
        (a, n): USBAlternateInterface => ({
          alternateSetting: a.alternateSetting ?? n,
          interfaceClass: a.class,
          interfaceSubclass: a.subclass,
          interfaceProtocol: a.protocol,
          interfaceName: null,
          endpoints: a.endpoints as USBEndpoint[],
        }),
      );
      return { interfaceNumber: i.number, alternate: alternates[0]!, alternates, claimed: false };
    }),
  };
}

export const TETHER = { class: 255, subclass: 84, protocol: 1 } as const;

export function bulk(endpointNumber: number, direction: USBDirection, packetSize = 512): FakeEndpoint {
  return { endpointNumber, direction, type: 'bulk', packetSize };
}

export type InScript = (length: number) => Promise<USBInTransferResult>;

/** Only the members the code under test uses are real; the rest throw if touched. */
export class FakeDevice {
  readonly calls: string[] = [];
  readonly out: { endpoint: number; data: Uint8Array }[] = [];
  readonly inRequests: number[] = [];
  readonly inQueue: InScript[] = [];
  outStatus: (data: Uint8Array) => Promise<USBOutTransferResult> = async (d) => ({ status: 'ok', bytesWritten: d.byteLength });
  fail: Partial<Record<'open' | 'selectConfiguration' | 'claimInterface' | 'selectAlternateInterface', unknown>> = {};
  configuration: USBConfiguration | null;
  opened = false;
  vendorId = 0x095d;
  productId = 0x1234;
  serialNumber: string | undefined = 'SN1';

  constructor(readonly configurations: USBConfiguration[], activeValue: number | null = configurations[0]?.configurationValue ?? null) {
    this.configuration = configurations.find((c) => c.configurationValue === activeValue) ?? null;
  }

  queueIn(bytes: Uint8Array | USBTransferStatus): void {
    this.inQueue.push(async () =>
      typeof bytes === 'string' ? { status: bytes } : { status: 'ok', data: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
    );
  }

  async open(): Promise<void> {
    this.calls.push('open');
    if (this.fail.open) throw this.fail.open;
    this.opened = true;
  }

  async close(): Promise<void> {
    this.calls.push('close');
    this.opened = false;
  }

  async selectConfiguration(value: number): Promise<void> {
    this.calls.push(`selectConfiguration ${value}`);
    if (this.fail.selectConfiguration) throw this.fail.selectConfiguration;
    this.configuration = this.configurations.find((c) => c.configurationValue === value) ?? null;
  }

  async claimInterface(n: number): Promise<void> {
    this.calls.push(`claimInterface ${n}`);
    if (this.fail.claimInterface) throw this.fail.claimInterface;
  }

  async selectAlternateInterface(n: number, alt: number): Promise<void> {
    this.calls.push(`selectAlternateInterface ${n} ${alt}`);
    if (this.fail.selectAlternateInterface) throw this.fail.selectAlternateInterface;
  }

  async reset(): Promise<void> {
    this.calls.push('reset');
  }

  async releaseInterface(n: number): Promise<void> {
    this.calls.push(`releaseInterface ${n}`);
  }

  async clearHalt(direction: USBDirection, ep: number): Promise<void> {
    this.calls.push(`clearHalt ${direction} ${ep}`);
  }

  async transferOut(ep: number, data: ArrayBuffer | ArrayBufferView): Promise<USBOutTransferResult> {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);
    this.out.push({ endpoint: ep, data: bytes });
    return this.outStatus(bytes);
  }

  async transferIn(ep: number, length: number): Promise<USBInTransferResult> {
    this.calls.push(`transferIn ${ep}`);
    this.inRequests.push(length);
    const next = this.inQueue.shift();
    if (!next) return new Promise(() => {});
    return next(length);
  }

  asUsbDevice(): USBDevice {
    return this as unknown as USBDevice;
  }
}

export function phoneDevice(opts: { inEp?: number; outEp?: number; packetSize?: number } = {}): FakeDevice {
  return new FakeDevice([
    configuration(1, [
      { number: 0, alternates: [{ class: 1, subclass: 1, protocol: 0, endpoints: [] }] },
      {
        number: 2,
        alternates: [{ ...TETHER, endpoints: [bulk(opts.inEp ?? 1, 'in', opts.packetSize), bulk(opts.outEp ?? 2, 'out', opts.packetSize)] }],
      },
    ]),
  ]);
}
