import { TetherError, toTetherError } from '../../common/errors';
import { realTimers, type FirmwareSlot, type SessionTimers } from '../../native/protocol';
import { sameBytes } from '../../native/protocol/handshake';
import type { AttachedPhone } from './attach';
import type { FirmwareImage } from './firmware-image';
import type { PhoneProvider } from './manager';

/** Where a push is; one function maps it to text for the UI. */
export type FirmwareProgress =
  | { readonly phase: 'waiting-for-phone'; readonly reason: 'start' | 'link-lost' | 'reboot' }
  | { readonly phase: 'sending'; readonly sent: number; readonly total: number; readonly resumedFrom: number }
  | { readonly phase: 'verifying' }
  | { readonly phase: 'activating'; readonly slot: FirmwareSlot }
  | { readonly phase: 'rebooting'; readonly rebootInMs: number }
  | { readonly phase: 'committing' }
  | { readonly phase: 'done'; readonly version: string; readonly slot: FirmwareSlot };

export interface FirmwarePushOptions {
  readonly phones: PhoneProvider;
  readonly serial: string;
  readonly image: FirmwareImage;
  readonly onProgress?: (p: FirmwareProgress) => void;
  /** How long to wait for the phone to come back after an unplug, reset or reboot (120000 ms). */
  readonly reattachTimeoutMs?: number;
  /** Interruptions tolerated in a row without any new byte reaching the phone (10). */
  readonly maxStalledRetries?: number;
  /** Timeout of firmwareVerify: the phone hashes the whole image (120000 ms). */
  readonly verifyTimeoutMs?: number;
  /** Bytes handed to the bulk writer per write (the image's own chunks are split to this; 1 MiB). */
  readonly writeBytes?: number;
  readonly timers?: SessionTimers;
  /**
   * Cancels the push between writes: the phone keeps what it has received (its transfer record),
   * so the next push resumes at that offset. Rejects with CANCELLED.
   */
  readonly signal?: AbortSignal;
  /**
   * Runs each wait for the phone to come back (unplugged, reset, rebooting); the job runner gives
   * the stage's pool slot back meanwhile, as it does while waiting for a person. Default: just waits.
   */
  readonly whileAway?: <T>(wait: () => Promise<T>) => Promise<T>;
}

export interface FirmwarePushResult {
  readonly version: string;
  readonly slot: FirmwareSlot;
  /** Times the push resumed after losing the phone. */
  readonly resumes: number;
  /** Image bytes actually sent, counting re-sends after interruptions. */
  readonly bytesSent: number;
  /** True when the phone already ran this version and nothing was sent. */
  readonly alreadyCurrent: boolean;
}

/** Errors after which the phone may come back (unplug, reset, reboot, a reset session). */
function isLinkLoss(err: TetherError): boolean {
  if (err.code.startsWith('USB_')) {
    return !['USB_NO_PERMISSION', 'USB_NO_DRIVER', 'USB_INTERFACE_BUSY', 'USB_NOT_A_PHONE', 'USB_UNAVAILABLE', 'USB_NO_BUS', 'USB_REATTACH_TIMEOUT'].includes(err.code);
  }
  if (err.code.startsWith('PROTOCOL_')) {
    return !['PROTOCOL_NOT_PAIRED', 'PROTOCOL_UNSUPPORTED_OPERATION', 'PROTOCOL_REMOTE_ERROR', 'PROTOCOL_VERSION_UNSUPPORTED'].includes(err.code);
  }
  return err.code === 'TIMEOUT';
}

/**
 * Pushes a firmware image to the phone with this serial (stage 4, "Check for updates").
 *
 * Each attempt asks the phone where it is (firmwareStatus) and does only what is left: begin (the
 * phone answers how much of this image it already holds), stream the rest by offset under the
 * credit window, verify the SHA-256, activate, wait for the reboot, then commit on the new
 * firmware. When the phone is unplugged, reset or reboots, the pusher waits for it to come back by
 * serial and carries on from what the phone holds. The phone writes only the inactive slot and
 * boots the new one on trial until commit, so an interruption never leaves it without firmware.
 * Every error is typed with stage 'check-update'.
 */
export async function pushFirmware(options: FirmwarePushOptions): Promise<FirmwarePushResult> {
  try {
    return await new Push(options).run();
  } catch (err) {
    throw toTetherError(err).withStage('check-update');
  }
}

class Push {
  private resumes = 0;
  private stalled = 0;
  private bestHave = -1;
  private bytesSent = 0;
  private activatedSlot: FirmwareSlot | null = null;
  private hashRetried = false;

  constructor(private readonly o: FirmwarePushOptions) {}

  private progress(p: FirmwareProgress): void {
    this.o.onProgress?.(p);
  }

  private checkCancelled(): void {
    if (this.o.signal?.aborted) throw new TetherError('CANCELLED', 'The firmware push was cancelled; the next push resumes where the phone stopped.');
  }

  async run(): Promise<FirmwarePushResult> {
    const timeoutMs = this.o.reattachTimeoutMs ?? 120_000;
    this.progress({ phase: 'waiting-for-phone', reason: 'start' });
    let phone = await this.o.phones.waitForSerial(this.o.serial, { timeoutMs });
    const away = this.o.whileAway ?? ((wait) => wait());
    for (;;) {
      let rebooting = false;
      try {
        const outcome = await this.attempt(phone);
        if (outcome.kind === 'done') return outcome.result;
        rebooting = true;
      } catch (err) {
        const e = toTetherError(err);
        if (!isLinkLoss(e) || this.o.signal?.aborted) throw e;
        // Bounded: a phone that keeps dropping without taking a single new byte is given up on.
        this.stalled++;
        if (this.stalled > (this.o.maxStalledRetries ?? 10)) throw e;
        this.resumes++;
        await phone.close();
        this.progress({ phase: 'waiting-for-phone', reason: 'link-lost' });
      }
      const gone = phone;
      phone = await away(async () => {
        if (rebooting) {
          // The phone reboots into the new slot: its session ends and a new one must come.
          await this.untilClosed(gone);
          this.progress({ phase: 'waiting-for-phone', reason: 'reboot' });
        }
        this.checkCancelled();
        return this.o.phones.waitForSerial(this.o.serial, { timeoutMs, after: gone });
      });
    }
  }

  private async attempt(phone: AttachedPhone): Promise<{ kind: 'done'; result: FirmwarePushResult } | { kind: 'rebooting' }> {
    const { session } = phone;
    const { image } = this.o;
    const status = await session.call('firmwareStatus', {});
    if (status.runningVersion === image.version) {
      // Booted the new image (or it was already there): make it permanent if it is on trial.
      let slot = status.running;
      if (status.pendingCommit) {
        this.progress({ phase: 'committing' });
        slot = (await session.call('firmwareCommit', {})).slot;
      }
      this.progress({ phase: 'done', version: image.version, slot });
      return { kind: 'done', result: { version: image.version, slot, resumes: this.resumes, bytesSent: this.bytesSent, alreadyCurrent: this.activatedSlot === null && this.bytesSent === 0 } };
    }
    if (this.activatedSlot !== null) {
      const target = status.slots.find((s) => s.slot === this.activatedSlot);
      // Activated but not rebooted yet (the link went first): wait for the reboot. Otherwise the
      // phone tried the new image and fell back to the old one.
      if (target?.state === 'pending') return { kind: 'rebooting' };
      throw new TetherError('FIRMWARE_BOOT_FAILED', undefined, { detail: { serial: this.o.serial, version: image.version, running: status.runningVersion } });
    }

    const begin = await session.call('firmwareBegin', { size: image.size, version: image.version, sha256: image.sha256 });
    if (begin.have > this.bestHave) {
      this.bestHave = begin.have;
      this.stalled = 0;
    }
    await this.send(phone, begin.transferId, begin.have);

    this.progress({ phase: 'verifying' });
    try {
      const verified = await session.call('firmwareVerify', { transferId: begin.transferId }, { timeoutMs: this.o.verifyTimeoutMs ?? 120_000 });
      if (!sameBytes(verified.sha256, image.sha256)) {
        throw new TetherError('FIRMWARE_VERIFY_FAILED', undefined, { detail: { serial: this.o.serial } });
      }
    } catch (err) {
      const e = toTetherError(err);
      // The phone drops a transfer whose hash is wrong; send it afresh once before giving up.
      if ((e.code === 'DEVICE_FIRMWARE_HASH_MISMATCH' || e.code === 'DEVICE_FIRMWARE_INCOMPLETE') && !this.hashRetried) {
        this.hashRetried = true;
        return this.attempt(phone);
      }
      if (e.code === 'DEVICE_FIRMWARE_HASH_MISMATCH') throw new TetherError('FIRMWARE_VERIFY_FAILED', undefined, { detail: { serial: this.o.serial }, cause: e });
      throw e;
    }

    // Cancelled after the last byte: the verified image stays in the inactive slot, not activated.
    this.checkCancelled();
    const activated = await session.call('firmwareActivate', { transferId: begin.transferId });
    this.activatedSlot = activated.slot;
    this.progress({ phase: 'activating', slot: activated.slot });
    this.progress({ phase: 'rebooting', rebootInMs: activated.rebootInMs });
    return { kind: 'rebooting' };
  }

  /** The phone's session ends when it reboots; a phone that never does is a timeout, not a hang. */
  private untilClosed(phone: AttachedPhone): Promise<void> {
    const timers = this.o.timers ?? realTimers;
    const timeoutMs = this.o.reattachTimeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => reject(new TetherError('USB_REATTACH_TIMEOUT', 'The phone did not restart after the new firmware was activated.', { detail: { serial: this.o.serial, timeoutMs } })), timeoutMs);
      void phone.session.closed.then(() => {
        timers.clearTimeout(timer);
        resolve();
      });
    });
  }

  private async send(phone: AttachedPhone, transferId: number, have: number): Promise<void> {
    const { image } = this.o;
    const writer = phone.session.bulkWriter(transferId);
    const writeBytes = this.o.writeBytes ?? 1 << 20;
    let offset = have;
    this.progress({ phase: 'sending', sent: offset, total: image.size, resumedFrom: have });
    for await (const chunk of image.read(have)) {
      for (let at = 0; at < chunk.byteLength; at += writeBytes) {
        const piece = chunk.subarray(at, Math.min(chunk.byteLength, at + writeBytes));
        this.checkCancelled();
        if (offset + piece.byteLength > image.size) throw new TetherError('FIRMWARE_IMAGE_CHANGED', undefined, { detail: { size: image.size } });
        await writer.write(offset, piece);
        offset += piece.byteLength;
        this.bytesSent += piece.byteLength;
        this.progress({ phase: 'sending', sent: offset, total: image.size, resumedFrom: have });
      }
    }
    if (offset !== image.size) throw new TetherError('FIRMWARE_IMAGE_CHANGED', undefined, { detail: { size: image.size, read: offset } });
    await writer.flush();
  }
}
