import type { TetherError } from '../../common/errors';

/** Where a device came from: the real bus (node-usb) or a virtual phone plugged in by software. */
export type SourceKind = 'usb' | 'virtual';

export type DeviceListener = (device: USBDevice) => void;

/**
 * One place devices come from. Real and virtual phones are both plain W3C USBDevices, so the
 * fleet code never knows which it holds.
 */
export interface DeviceSource {
  readonly kind: SourceKind;
  /** Devices present now (every device, not only phones: matching is the caller's job). */
  list(): Promise<USBDevice[]>;
  /** Subscribes to hotplug; returns the unsubscribe function. */
  onConnect(listener: DeviceListener): () => void;
  onDisconnect(listener: DeviceListener): () => void;
  /** Stops hotplug monitoring so the process can exit. */
  close(): void;
}

/** A phone that is on the bus but that Tether cannot open, with the typed reason. */
export interface InaccessibleDevice {
  readonly vendorId: number;
  readonly productId: number;
  readonly error: TetherError;
}

/** Devices that software plugs in and out: the virtual phones (and tests' fakes). */
export class ManualSource implements DeviceSource {
  readonly kind: SourceKind;
  private readonly devices = new Set<USBDevice>();
  private readonly connectListeners = new Set<DeviceListener>();
  private readonly disconnectListeners = new Set<DeviceListener>();

  constructor(kind: SourceKind = 'virtual') {
    this.kind = kind;
  }

  plug(device: USBDevice): void {
    if (this.devices.has(device)) return;
    this.devices.add(device);
    for (const l of [...this.connectListeners]) l(device);
  }

  unplug(device: USBDevice): void {
    if (!this.devices.delete(device)) return;
    for (const l of [...this.disconnectListeners]) l(device);
  }

  async list(): Promise<USBDevice[]> {
    return [...this.devices];
  }

  onConnect(listener: DeviceListener): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  onDisconnect(listener: DeviceListener): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  close(): void {
    this.connectListeners.clear();
    this.disconnectListeners.clear();
  }
}
