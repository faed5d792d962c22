import { TetherError, toTetherError } from '../../common/errors';
import { openDeviceSession } from '../protocol/device-session';
import type { DeviceSession, SessionOptions } from '../protocol/api';
import { realTimers } from '../protocol/timers';
import { BUILT_IN_CATALOGUE, findModel, type Catalogue, type PhoneModel } from '../usb/catalogue';
import { RealClock, type Clock } from './clock';
import { VIRTUAL_VENDOR_ID, bcdFromVersion, virtualProductId, type DeviceDescription } from './descriptors';
import { VirtualFaults, type FaultPlan } from './faults';
import { linkModel, type LinkSpeed } from './link-model';
import { phoneHandlers, REPLY_GRACE_MS } from './phone/handlers';
import { randomSerial } from './phone/identity';
import { VirtualPhone, type PhoneNetworkConfig, type RegistrarConnector, type RenewalTimer } from './phone/phone';
import { checkSerial, MemoryPhoneStore, type PhoneStore } from './phone/store';
import { VirtualUsbDevice } from './usb-device';
import type { UsbWire } from './wire';

/** Where attached phones are announced: H3's ManualSource (native/usb/source.ts) fits. */
export interface HotplugSink {
  plug(device: USBDevice): void;
  unplug(device: USBDevice): void;
}

export interface CreateVirtualPhoneOptions {
  /** Catalogue model id (CX600, CX700, CX3000, HP4120, AASTRA6725IP) or a model. */
  readonly model: string | PhoneModel;
  /** Default: model id and 8 random hex digits. The same serial and store give the same phone back. */
  readonly serial?: string;
  /** USB 2.0 link speed (default high). */
  readonly speed?: LinkSpeed;
  /** Paces the link and the phone's timers (default the real clock; VirtualClock in tests). */
  readonly clock?: Clock;
  /** The phone's flash (default a fresh in-memory store). */
  readonly store?: PhoneStore;
  readonly faults?: FaultPlan | VirtualFaults;
  readonly network?: PhoneNetworkConfig;
  /** Stage 9 seam; without it the phone never tries to sign in. */
  readonly registrar?: RegistrarConnector;
  /** Timer for the phone's re-sign-in (VirtualPhoneOptions.renewalTimer). */
  readonly renewalTimer?: RenewalTimer;
  /** Wall-clock time for certificate dates and logs. */
  readonly now?: () => Date;
  /** Announces attach/detach (H3's ManualSource). */
  readonly bus?: HotplugSink;
  /** Plug the cable back in this long after a fault pulled it (default: stays out until plug()). */
  readonly replugAfterMs?: number;
  /** Options for the phone's protocol sessions (window, max payload, timers …). */
  readonly session?: SessionOptions;
  readonly catalogue?: Catalogue;
  readonly maxImageBytes?: number;
}

type DeviceListener = (device: VirtualUsbDevice) => void;

/**
 * Where the phone's power cycle stands. `boot-failed`: loading its state from flash failed at
 * power-on; the phone stays off (no enumeration) until powerOn() is called again.
 */
export type BootState =
  | { readonly state: 'off' }
  | { readonly state: 'running' }
  | { readonly state: 'boot-failed'; readonly reason: string; readonly error: TetherError };

type BootFailedListener = (state: Extract<BootState, { state: 'boot-failed' }>) => void;

/** Lines kept of the host's own power log (the phone's log lives in its flash, unreachable then). */
const POWER_LOG_LINES = 200;

/**
 * One virtual phone across its whole life: power cycles (reboot, firmware activation), cable
 * pulls and re-plugs. Each enumeration is a new `VirtualUsbDevice` with the same serial, as with a
 * real phone; `device` is the current one. The phone's side of the tether protocol runs behind
 * each attachment's bulk endpoints.
 */
export class VirtualPhoneHost {
  readonly model: PhoneModel;
  readonly serial: string;
  readonly faults: VirtualFaults;
  readonly store: PhoneStore;
  readonly clock: Clock;
  private phoneNow: VirtualPhone | null = null;
  private deviceNow: VirtualUsbDevice | null = null;
  private sessionNow: DeviceSession | null = null;
  private powered = false;
  private bootNow: BootState = { state: 'off' };
  private readonly powerLogLines: string[] = [];
  private readonly bootFailedListeners = new Set<BootFailedListener>();
  private cablePlugged = true;
  private generation = 0;
  private readonly attachListeners = new Set<DeviceListener>();
  private readonly detachListeners = new Set<DeviceListener>();
  private readonly handlers: ReturnType<typeof phoneHandlers>;

  constructor(private readonly options: CreateVirtualPhoneOptions & { readonly model: PhoneModel; readonly serial: string }) {
    this.model = options.model;
    this.serial = options.serial;
    this.faults = options.faults instanceof VirtualFaults ? options.faults : new VirtualFaults(options.faults);
    this.store = options.store ?? new MemoryPhoneStore();
    this.clock = options.clock ?? new RealClock();
    this.handlers = phoneHandlers(() => this.phone, this.faults, {
      unplug: () => this.unplug(),
      reboot: (delayMs, reason) => this.scheduleReboot(delayMs, reason),
      powerCut: (reason) => void this.reboot(reason),
    });
  }

  /** The phone's state for this power cycle (replaced at each boot). */
  get phone(): VirtualPhone {
    if (!this.phoneNow) throw new TetherError('INTERNAL', 'The virtual phone is powered off.');
    return this.phoneNow;
  }

  /** The current enumeration, or null while unplugged or booting. */
  get device(): VirtualUsbDevice | null {
    return this.deviceNow;
  }

  /** The protocol session running now, if a host has connected. */
  get session(): DeviceSession | null {
    return this.sessionNow;
  }

  /** Where the power cycle stands (see BootState). */
  get bootState(): BootState {
    return this.bootNow;
  }

  /**
   * The power supervisor's log: each power-on, power-off and failed boot. It stands apart from the
   * phone's own log because a boot that cannot read flash has no phone (and no flash log) to write to.
   */
  get powerLog(): readonly string[] {
    return this.powerLogLines;
  }

  /** Called when a power-on fails to load the phone's state (the phone stays off). */
  onBootFailed(listener: BootFailedListener): () => void {
    this.bootFailedListeners.add(listener);
    return () => this.bootFailedListeners.delete(listener);
  }

  onAttach(listener: DeviceListener): () => void {
    this.attachListeners.add(listener);
    return () => this.attachListeners.delete(listener);
  }

  onDetach(listener: DeviceListener): () => void {
    this.detachListeners.add(listener);
    return () => this.detachListeners.delete(listener);
  }

  /** Resolves with the next enumeration (or the current one, if attached). */
  nextAttach(): Promise<VirtualUsbDevice> {
    return new Promise((resolve) => {
      const off = this.onAttach((d) => {
        off();
        resolve(d);
      });
    });
  }

  /**
   * Powers the phone on (boots from its store) and, with the cable in, enumerates. Does not reject:
   * when the state cannot be loaded from flash, the phone stays off, `bootState` says why, the
   * power log records it and onBootFailed listeners hear of it; the result is then null.
   */
  async powerOn(reason = 'power on'): Promise<VirtualUsbDevice | null> {
    if (this.powered) return this.deviceNow;
    this.powered = true;
    const generation = ++this.generation;
    this.powerLogLine(`power on (${reason})`);
    let phone: VirtualPhone;
    try {
      phone = await VirtualPhone.load(
        {
          model: this.model,
          serial: this.serial,
          store: this.store,
          network: this.options.network,
          registrar: this.options.registrar,
          now: this.options.now,
          maxImageBytes: this.options.maxImageBytes,
          renewalTimer: this.options.renewalTimer,
        },
        { newImageFails: () => this.faults.takeFailNextBoot() },
      );
    } catch (cause) {
      if (generation === this.generation) this.bootFailed(reason, cause);
      return null;
    }
    if (generation !== this.generation) return null;
    this.phoneNow = phone;
    this.bootNow = { state: 'running' };
    if (this.cablePlugged) this.attach();
    return this.deviceNow;
  }

  /** A boot that could not load the phone's state: a real phone stays dark; so does this one. */
  private bootFailed(reason: string, cause: unknown): void {
    const error = toTetherError(cause);
    this.powered = false;
    this.generation++;
    const state = { state: 'boot-failed', reason, error } as const;
    this.bootNow = state;
    this.powerLogLine(`boot failed (${reason}): ${error.code}: ${error.message}; staying off`);
    for (const l of [...this.bootFailedListeners]) l(state);
  }

  private powerLogLine(line: string): void {
    this.powerLogLines.push(`${(this.options.now?.() ?? new Date()).toISOString()} ${line}`);
    if (this.powerLogLines.length > POWER_LOG_LINES) this.powerLogLines.shift();
  }

  /** Pulls the USB cable: the device disappears; the phone keeps power and memory. */
  unplug(): void {
    this.cablePlugged = false;
    this.detach();
    const after = this.options.replugAfterMs;
    if (after !== undefined) void this.clock.sleepUntil(this.clock.now() + after).then(() => this.plug());
  }

  /** Plugs the cable back in: the phone enumerates again (a new USBDevice, same serial). */
  plug(): VirtualUsbDevice | null {
    this.cablePlugged = true;
    if (this.powered && this.phoneNow && !this.deviceNow) this.attach();
    return this.deviceNow;
  }

  /** Reboots now: the device disappears, memory is lost, the phone boots from its store and re-enumerates. */
  async reboot(reason = 'reboot'): Promise<void> {
    await this.powerOff(reason);
    await this.clock.sleepUntil(this.clock.now() + this.faults.bootMs);
    await this.powerOn(reason);
  }

  /**
   * Cuts power: the device disappears and memory (credentials, session) is lost. Never rejects: a
   * failed last write to flash is logged (power goes anyway, as on a real phone).
   */
  async powerOff(reason = 'power off'): Promise<void> {
    if (!this.powered) return;
    this.powered = false;
    this.generation++;
    this.bootNow = { state: 'off' };
    this.powerLogLine(`power off (${reason})`);
    this.detach();
    const phone = this.phoneNow;
    this.phoneNow = null;
    if (!phone) return;
    try {
      await phone.shutdown(reason);
    } catch (cause) {
      const error = toTetherError(cause);
      this.powerLogLine(`power off (${reason}): saving to flash failed: ${error.code}: ${error.message}`);
    }
  }

  private scheduleReboot(delayMs: number, reason: string): number {
    const delay = Math.max(REPLY_GRACE_MS, Math.min(60_000, Math.floor(delayMs)));
    const generation = this.generation;
    void this.clock.sleepUntil(this.clock.now() + delay).then(async () => {
      if (generation === this.generation) await this.reboot(reason);
    });
    return delay;
  }

  private description(): DeviceDescription {
    const m = this.model;
    return {
      vendorId: m.vendorId ?? VIRTUAL_VENDOR_ID,
      productId: m.productId ?? virtualProductId(m, this.options.catalogue),
      bcdDevice: bcdFromVersion(this.phone.firmware.runningVersion),
      manufacturerName: m.vendor,
      productName: m.name,
      serialNumber: this.serial,
      speed: this.options.speed ?? 'high',
      tether: (this.options.catalogue ?? BUILT_IN_CATALOGUE).tetherInterface,
    };
  }

  private attach(): void {
    this.faults.newAttachment();
    const device: VirtualUsbDevice = new VirtualUsbDevice({
      description: this.description(),
      link: linkModel(this.options.speed ?? 'high'),
      clock: this.clock,
      faults: this.faults,
      onWire: (wire) => this.serve(wire, () => this.deviceNow === device),
      onUnplug: () => this.unplug(),
    });
    device.host = this;
    this.deviceNow = device;
    this.options.bus?.plug(device);
    for (const l of [...this.attachListeners]) l(device);
  }

  private detach(): void {
    const device = this.deviceNow;
    if (!device) return;
    this.deviceNow = null;
    device.detach();
    void this.sessionNow?.close().catch(() => {});
    this.sessionNow = null;
    this.options.bus?.unplug(device);
    for (const l of [...this.detachListeners]) l(device);
  }

  /** Runs the phone's side of the protocol on one wire: a session per host handshake, until the wire ends. */
  private serve(wire: UsbWire, current: () => boolean): void {
    void (async () => {
      while (!wire.isGone) {
        const link = wire.openDeviceLink();
        const phone = this.phoneNow;
        if (!phone) return;
        let session: DeviceSession;
        try {
          session = await openDeviceSession(link, {
            // Unref'd: a phone waiting for a host never keeps the process alive on its own.
            timers: realTimers,
            ...this.options.session,
            identity: phone.identity,
            handlers: this.handlers.handlers,
            onBulk: this.handlers.onBulk,
            showSas: (sas) => phone.showPairingCode(sas),
            onPaired: (method) => phone.paired(method),
            pairingKeys: phone.pairingKeys,
          });
        } catch {
          await link.close();
          if (wire.isGone) return;
          // A failed handshake (junk, a timeout): wait a moment and listen again.
          await this.clock.sleepUntil(this.clock.now() + 10);
          continue;
        }
        if (current()) this.sessionNow = session;
        const off = phone.onEvent((event, payload) => {
          if (session.state === 'open') void session.emit(event, payload).catch(() => {});
        });
        await session.closed;
        off();
        phone.sessionEnded();
        if (this.sessionNow === session) this.sessionNow = null;
        await link.close();
      }
    })();
  }
}

/**
 * Makes a virtual phone of a catalogue model, powers it on and plugs it in. Resolves with its
 * `USBDevice` (interchangeable with node-usb's WebUSB device); `device.host` controls the phone
 * (unplug, plug, reboot, faults, state).
 */
export async function createVirtualPhone(options: CreateVirtualPhoneOptions): Promise<VirtualUsbDevice> {
  const catalogue = options.catalogue ?? BUILT_IN_CATALOGUE;
  const model = typeof options.model === 'string' ? findModel(options.model, catalogue) : options.model;
  if (!model) {
    throw new TetherError('BAD_INPUT', `Unknown phone model "${String(options.model)}"; known: ${catalogue.models.map((m) => m.id).join(', ')}.`);
  }
  const serial = checkSerial(options.serial ?? randomSerial(model));
  const host = new VirtualPhoneHost({ ...options, model, serial });
  const device = await host.powerOn();
  const boot = host.bootState;
  if (boot.state === 'boot-failed') throw boot.error;
  if (!device) throw new TetherError('INTERNAL', 'The virtual phone did not enumerate.');
  return device;
}
