import { TetherError, toTetherError } from '../../common/errors';
import { realTimers, type HostSessionOptions, type SessionTimers } from '../../native/protocol';
import { BUILT_IN_CATALOGUE, type Catalogue } from '../../native/usb/catalogue';
import { hasTetherInterface } from '../../native/usb/endpoints';
import type { DeviceSource, SourceKind } from '../../native/usb/source';
import { attachPhone, type AttachedPhone } from './attach';

/** What the fleet tells its listeners. */
export type FleetEvent =
  | { readonly type: 'attach'; readonly phone: AttachedPhone }
  | { readonly type: 'detach'; readonly phone: AttachedPhone; readonly reason: TetherError | null }
  | {
      readonly type: 'error';
      readonly source: SourceKind;
      readonly vendorId: number;
      readonly productId: number;
      /** The USB serial string, when the device offers one (a phone held by another program is still named). */
      readonly serial: string | null;
      readonly error: TetherError;
    };

export interface DeviceManagerOptions {
  readonly sources: readonly DeviceSource[];
  readonly catalogue?: Catalogue;
  readonly session?: HostSessionOptions;
  readonly timers?: SessionTimers;
  /** Delay before re-attaching a phone still on the bus whose session ended (ms, default 200). */
  readonly retryDelayMs?: number;
  /** Consecutive failed attaches of one device before the fleet gives up on it until it is replugged (5). */
  readonly maxAttachFailures?: number;
}

export interface WaitOptions {
  /** Reject with USB_REATTACH_TIMEOUT after this (default 120000 ms: a phone's reboot is slow). */
  readonly timeoutMs?: number;
  /** Resolve only with a different attachment than this one (the one that just died). */
  readonly after?: AttachedPhone;
}

/** Finds phones by serial as they come and go; the firmware pusher needs only this. */
export interface PhoneProvider {
  waitForSerial(serial: string, options?: WaitOptions): Promise<AttachedPhone>;
}

interface Tracked {
  readonly source: DeviceSource;
  phone: AttachedPhone | null;
  attaching: boolean;
  failures: number;
  present: boolean;
  retry: unknown;
  /** The last session on this device failed: reset it before the next handshake. */
  needsReset: boolean;
  /** Why the last attach failed (cleared by a successful one). */
  lastError: Extract<FleetEvent, { type: 'error' }> | null;
}

/**
 * The fleet: every phone from every source (real bus and virtual) in one list. It attaches each
 * device that offers the tether interface (open, claim, handshake), notices unplugs, and
 * re-attaches a phone whose session ended while it is still on the bus (a protocol reset, a local close)
 * or when it comes back (after a reboot or replug), so callers follow a phone by its serial.
 */
export class DeviceManager implements PhoneProvider {
  private readonly tracked = new Map<USBDevice, Tracked>();
  private readonly listeners = new Set<(e: FleetEvent) => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly timers: SessionTimers;
  private readonly catalogue: Catalogue;
  private stopped = false;

  constructor(private readonly options: DeviceManagerOptions) {
    this.timers = options.timers ?? realTimers;
    this.catalogue = options.catalogue ?? BUILT_IN_CATALOGUE;
  }

  /** Attaches every phone present now and follows hotplug. Resolves when the present ones are tried. */
  async start(): Promise<void> {
    for (const source of this.options.sources) {
      this.unsubscribe.push(source.onConnect((d) => void this.connected(source, d)));
      this.unsubscribe.push(source.onDisconnect((d) => this.disconnected(d)));
    }
    const lists = await Promise.all(this.options.sources.map(async (s) => ({ s, devices: await s.list() })));
    await Promise.all(lists.flatMap(({ s, devices }) => devices.map((d) => this.connected(s, d))));
  }

  /** Phones attached now, in attach order. */
  phones(): AttachedPhone[] {
    return [...this.tracked.values()].flatMap((t) => (t.phone ? [t.phone] : []));
  }

  /** Devices on the bus that are not attached now, with why the last attach failed (a phone held by another program …). */
  problems(): Extract<FleetEvent, { type: 'error' }>[] {
    return [...this.tracked.values()].flatMap((t) => (t.present && !t.phone && t.lastError ? [t.lastError] : []));
  }

  get(serial: string): AttachedPhone | undefined {
    return this.phones().find((p) => p.identity.serial === serial);
  }

  on(listener: (e: FleetEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  waitForSerial(serial: string, options: WaitOptions = {}): Promise<AttachedPhone> {
    const fresh = (p: AttachedPhone): boolean => p.identity.serial === serial && p !== options.after && p.session.state === 'open';
    const now = this.phones().find(fresh);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 120_000;
      const timer = this.timers.setTimeout(() => {
        off();
        reject(new TetherError('USB_REATTACH_TIMEOUT', undefined, { detail: { serial, timeoutMs } }));
      }, timeoutMs);
      const off = this.on((e) => {
        if (e.type === 'attach' && fresh(e.phone)) {
          off();
          this.timers.clearTimeout(timer);
          resolve(e.phone);
        }
      });
    });
  }

  /** Closes every session and stops following hotplug (the process can then exit). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    const closing: Promise<void>[] = [];
    for (const t of this.tracked.values()) {
      if (t.retry !== null) this.timers.clearTimeout(t.retry);
      if (t.phone) closing.push(t.phone.close());
    }
    await Promise.all(closing);
  }

  /**
   * A listener's bug must not break the fleet: emit runs inside hotplug callbacks and promise
   * chains that nobody awaits, where a throw would become an unhandled rejection (and, on attach,
   * would be taken for a failed attach of a phone that is attached).
   */
  private emit(e: FleetEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // ignored on purpose, see above
      }
    }
  }

  private async connected(source: DeviceSource, device: USBDevice): Promise<void> {
    if (this.stopped || !hasTetherInterface(device, this.catalogue.tetherInterface)) return;
    let t = this.tracked.get(device);
    if (!t) {
      t = { source, phone: null, attaching: false, failures: 0, present: true, retry: null, needsReset: false, lastError: null };
      this.tracked.set(device, t);
    }
    t.present = true;
    await this.attach(device, t);
  }

  private async attach(device: USBDevice, t: Tracked): Promise<void> {
    if (t.attaching || t.phone || this.stopped) return;
    t.attaching = true;
    try {
      const phone = await attachPhone(device, {
        source: t.source.kind,
        triple: this.catalogue.tetherInterface,
        session: { ...this.options.session, timers: this.options.session?.timers ?? this.timers },
        reset: t.needsReset,
      });
      t.needsReset = false;
      if (this.stopped || !t.present) {
        await phone.close();
        return;
      }
      t.phone = phone;
      t.failures = 0;
      t.lastError = null;
      void phone.session.closed.then((reason) => this.sessionEnded(device, t, phone, reason));
      this.emit({ type: 'attach', phone });
    } catch (err) {
      t.failures++;
      const error = toTetherError(err);
      // A handshake that failed on protocol grounds may have met a previous session's leftovers.
      if (error.code.startsWith('PROTOCOL_')) t.needsReset = true;
      t.lastError = { type: 'error', source: t.source.kind, vendorId: device.vendorId, productId: device.productId, serial: device.serialNumber ?? null, error };
      this.emit(t.lastError);
      this.scheduleRetry(device, t);
    } finally {
      t.attaching = false;
    }
  }

  private sessionEnded(device: USBDevice, t: Tracked, phone: AttachedPhone, reason: TetherError | null): void {
    if (t.phone !== phone) return;
    t.phone = null;
    void phone.close();
    this.emit({ type: 'detach', phone, reason });
    // Still on the bus (an unplug never gets here): reset the device and open a new session on it,
    // after a protocol reset and after a local close alike: a caller such as the firmware pusher
    // closes a session it gave up on (a call timeout) and waits for the phone by serial. stop()
    // closes sessions only after it has set `stopped`, so no retry follows a shutdown.
    t.needsReset = true;
    this.scheduleRetry(device, t);
  }

  private scheduleRetry(device: USBDevice, t: Tracked): void {
    const max = this.options.maxAttachFailures ?? 5;
    if (this.stopped || !t.present || t.failures >= max || t.retry !== null) return;
    t.retry = this.timers.setTimeout(() => {
      t.retry = null;
      void this.attach(device, t);
    }, this.options.retryDelayMs ?? 200);
  }

  private disconnected(device: USBDevice): void {
    const t = this.tracked.get(device);
    if (!t) return;
    t.present = false;
    if (t.retry !== null) this.timers.clearTimeout(t.retry);
    t.retry = null;
    this.tracked.delete(device);
    const phone = t.phone;
    if (!phone) return;
    t.phone = null;
    phone.link.disconnected();
    void phone.close();
    this.emit({ type: 'detach', phone, reason: new TetherError('USB_DISCONNECTED', undefined, { detail: { serial: phone.identity.serial } }) });
  }
}
