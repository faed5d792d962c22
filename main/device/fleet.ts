import { TetherError, toTetherError } from '../../common/errors';
import type { HostSessionOptions, SessionTimers } from '../../native/protocol';
import { BUILT_IN_CATALOGUE, findModel, type Catalogue } from '../../native/usb/catalogue';
import { loadCatalogue } from '../../native/usb/catalogue-file';
import { guessModel } from '../../native/usb/models';
import { openNodeUsbSource, type NodeUsbOptions, type NodeUsbSource } from '../../native/usb/node-usb-source';
import { ManualSource, type DeviceSource, type SourceKind } from '../../native/usb/source';
import { createVirtualPhone, type CreateVirtualPhoneOptions, type FaultPlan, type LinkSpeed, type VirtualUsbDevice } from '../../native/virtual';
import { DeviceManager } from './manager';

/** A virtual phone to plug in: `CX600`, `CX600:full`, `HP4120:high:HP4120-0001`. */
export interface VirtualSpec {
  readonly model: string;
  readonly speed?: LinkSpeed;
  readonly serial?: string;
  /** This phone's fault knobs (instead of the fleet-wide `virtualPhone.faults`). */
  readonly faults?: FaultPlan;
}

export function parseVirtualList(items: readonly string[], catalogue: Catalogue = BUILT_IN_CATALOGUE): VirtualSpec[] {
  return items
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((item) => {
      const parts = item.split(':');
      if (parts.length > 3) {
        throw new TetherError('BAD_INPUT', `"${item}" has too many parts; write MODEL[:SPEED[:SERIAL]], e.g. CX600:full:CX600-0001.`);
      }
      const [model, speed, serial] = parts;
      if (!model || !findModel(model, catalogue)) {
        throw new TetherError('BAD_INPUT', `Unknown phone model "${model ?? ''}"; known: ${catalogue.models.map((m) => m.id).join(', ')}.`);
      }
      if (speed !== undefined && speed !== '' && speed !== 'high' && speed !== 'full') {
        throw new TetherError('BAD_INPUT', `Unknown speed "${speed}" for ${model}; use high or full.`);
      }
      return { model, ...(speed ? { speed: speed as LinkSpeed } : {}), ...(serial ? { serial } : {}) };
    });
}

/** A phone seen on a bus that could not be attached, with the typed reason. */
export interface FleetFailure {
  readonly source: SourceKind;
  readonly vendorId: number;
  readonly productId: number;
  readonly model: string | null;
  readonly label: string;
  readonly error: TetherError;
}

export interface FleetOptions {
  readonly virtual?: readonly VirtualSpec[];
  /** Look on the real USB bus too (default true). */
  readonly real?: boolean;
  /** A catalogue, or the path of an admin's extension file. */
  readonly catalogue?: Catalogue | string;
  readonly usb?: NodeUsbOptions;
  readonly session?: HostSessionOptions;
  readonly timers?: SessionTimers;
  /** Extra options for every virtual phone (clock, store, faults …). */
  readonly virtualPhone?: Omit<CreateVirtualPhoneOptions, 'model' | 'serial' | 'speed' | 'bus' | 'catalogue'>;
}

export interface Fleet {
  readonly manager: DeviceManager;
  readonly catalogue: Catalogue;
  /** Why real phones cannot be listed (no USB bus, no libusb), or null. */
  readonly usbProblem: TetherError | null;
  readonly virtualSource: ManualSource;
  readonly virtualPhones: readonly VirtualUsbDevice[];
  /** Phones present that could not be attached (no permission, busy, failed handshake …). */
  failures(): FleetFailure[];
  modelName(id: string): string;
  /** Closes every session, stops hotplug and powers the virtual phones off. */
  close(): Promise<void>;
}

/**
 * The real bus and any virtual phones as one fleet, started and attached. A machine without a USB
 * bus or libusb still gets a fleet (virtual phones only) and `usbProblem` says why.
 */
export async function openFleet(options: FleetOptions = {}): Promise<Fleet> {
  const catalogue = typeof options.catalogue === 'string' || options.catalogue === undefined ? await loadCatalogue(options.catalogue) : options.catalogue;
  const sources: DeviceSource[] = [];
  let usbProblem: TetherError | null = null;
  let usb: NodeUsbSource | null = null;
  if (options.real !== false) {
    try {
      usb = await openNodeUsbSource({ ...options.usb, catalogue });
      sources.push(usb);
    } catch (err) {
      usbProblem = toTetherError(err);
    }
  }
  const virtualSource = new ManualSource('virtual');
  sources.push(virtualSource);
  const manager = new DeviceManager({ sources, catalogue, session: options.session, timers: options.timers });
  const failures: FleetFailure[] = [];
  manager.on((e) => {
    if (e.type !== 'error') return;
    const guess = guessModel(e.vendorId, e.productId, catalogue);
    failures.push({ source: e.source, vendorId: e.vendorId, productId: e.productId, model: guess.model?.id ?? null, label: guess.label, error: e.error });
  });
  const virtualPhones: VirtualUsbDevice[] = [];
  const close = async (): Promise<void> => {
    await manager.stop();
    usb?.close();
    virtualSource.close();
    await Promise.all(virtualPhones.map((d) => d.host?.powerOff('fleet closed')));
  };
  try {
    for (const spec of options.virtual ?? []) {
      virtualPhones.push(
        await createVirtualPhone({ ...options.virtualPhone, ...(spec.faults ? { faults: spec.faults } : {}), model: spec.model, serial: spec.serial, speed: spec.speed, bus: virtualSource, catalogue }),
      );
    }
    await manager.start();
    if (usb) {
      for (const d of await usb.inaccessible()) {
        const guess = guessModel(d.vendorId, d.productId, catalogue);
        failures.push({ source: 'usb', vendorId: d.vendorId, productId: d.productId, model: guess.model?.id ?? null, label: guess.label, error: d.error });
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    manager,
    catalogue,
    usbProblem,
    virtualSource,
    virtualPhones,
    failures: () => [...failures],
    modelName: (id) => findModel(id, catalogue)?.name ?? id,
    close,
  };
}
