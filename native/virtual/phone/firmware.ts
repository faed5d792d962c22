import { createHash, randomInt } from 'node:crypto';
import { TetherError } from '../../../common/errors';
import type {
  BulkChunk,
  FirmwareBeginReply,
  FirmwareBeginRequest,
  FirmwareSlot,
  FirmwareSlotReply,
  FirmwareStatusReply,
  FirmwareVerifyReply,
} from '../../protocol/messages';
import type { FirmwareRecord, PhoneStore, SlotRecord } from './store';

const EMPTY_SLOT: SlotRecord = { state: 'empty', version: null, size: 0, sha256: null };

export const DEFAULT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;

/** How often (in image bytes) the count of held bytes is written to flash while an image arrives. */
export const DEFAULT_PERSIST_EVERY_BYTES = 1024 * 1024;

export function otherSlot(slot: FirmwareSlot): FirmwareSlot {
  return slot === 'a' ? 'b' : 'a';
}

/** A phone fresh from the factory: its catalogue firmware committed in slot A, slot B empty. */
export function factoryFirmware(version: string): FirmwareRecord {
  return {
    running: 'a',
    pendingCommit: false,
    nextBoot: null,
    slots: { a: { state: 'committed', version, size: 0, sha256: null }, b: EMPTY_SLOT },
    transfer: null,
  };
}

export interface FirmwareIo {
  readonly store: PhoneStore;
  readonly serial: string;
  /** Persists the record (the phone writes its whole flash record). */
  save(record: FirmwareRecord): Promise<void>;
  log(line: string): void;
}

export interface BootOutcome {
  readonly slot: FirmwareSlot;
  readonly version: string;
  /** What the boot loader did, for the log. */
  readonly note: string | null;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/**
 * The phone's A/B firmware slots. OUR MODEL (docs/virtual-phone.md), after the documented
 * behaviour that the previous image is kept as a backup [S19] and that an approved image of any
 * other version is taken, which is how rollback works [S22].
 *
 * Invariants: an image is written only to the slot the phone is not running; a slot becomes
 * bootable only after its SHA-256 matched (verify); a hash mismatch empties the slot; a new image
 * boots once on trial and the phone falls back to the other slot unless the host commits it;
 * a slot is never left active while unverified. The image bytes are written before the count of
 * held bytes (`have`) is, and `have` reaches flash at least every `persistEveryBytes`: after a power
 * cut the phone may re-ask bytes it already holds, never claim bytes it does not. An unplug or a bus
 * reset loses nothing (the phone keeps power and memory).
 */
export class FirmwareSlots {
  private rec: FirmwareRecord;
  private chain: Promise<unknown> = Promise.resolve();
  private persistedHave = 0;

  constructor(
    record: FirmwareRecord,
    private readonly io: FirmwareIo,
    private readonly maxImageBytes = DEFAULT_MAX_IMAGE_BYTES,
    private readonly persistEveryBytes = DEFAULT_PERSIST_EVERY_BYTES,
  ) {
    this.rec = record;
    this.persistedHave = record.transfer?.have ?? 0;
  }

  get record(): FirmwareRecord {
    return this.rec;
  }

  get runningVersion(): string {
    return this.rec.slots[this.rec.running].version ?? 'unknown';
  }

  /** Bytes held of the image being received, or null when no transfer is open. */
  get receiving(): { have: number; size: number } | null {
    const t = this.rec.transfer;
    return t && !t.verified ? { have: t.have, size: t.size } : null;
  }

  status(): FirmwareStatusReply {
    const slots = (['a', 'b'] as const).map((slot) => {
      const s = this.rec.slots[slot];
      return { slot, version: s.state === 'empty' || s.state === 'receiving' ? null : s.version, state: s.state };
    });
    const t = this.rec.transfer;
    return {
      running: this.rec.running,
      runningVersion: this.runningVersion,
      pendingCommit: this.rec.pendingCommit,
      slots,
      transfer: t
        ? { transferId: t.transferId, version: t.version, size: t.size, sha256: Buffer.from(t.sha256, 'hex'), have: t.have, verified: t.verified }
        : null,
    };
  }

  /** Checks the record against the flash at power-on: `have` never exceeds what the slot file holds. */
  async reconcile(): Promise<void> {
    const t = this.rec.transfer;
    if (!t) return;
    const held = await this.io.store.imageLength(this.io.serial, t.slot);
    if (held < t.have) {
      this.io.log(`firmware: slot ${t.slot} holds ${held} of ${t.have} recorded bytes; resuming from ${held}`);
      // A slot that lost bytes is receiving again, even if it had been verified.
      await this.update({
        ...this.rec,
        slots: { ...this.rec.slots, [t.slot]: { state: 'receiving', version: null, size: t.size, sha256: t.sha256 } },
        transfer: { ...t, have: held, verified: false },
      });
    }
  }

  begin(req: FirmwareBeginRequest): Promise<FirmwareBeginReply> {
    return this.serial(async () => {
      if (!Number.isInteger(req.size) || req.size < 1 || req.size > 0xffffffff) {
        throw new TetherError('DEVICE_BAD_REQUEST', 'The firmware image size must be 1 … 2^32-1 bytes.');
      }
      if (req.sha256.byteLength !== 32) throw new TetherError('DEVICE_BAD_REQUEST', 'The firmware SHA-256 must be 32 bytes.');
      if (req.size > this.maxImageBytes) {
        throw new TetherError('DEVICE_STORAGE_FULL', `The image (${req.size} bytes) is larger than a firmware slot (${this.maxImageBytes} bytes).`, {
          stage: 'check-update',
          detail: { size: req.size, slotBytes: this.maxImageBytes },
        });
      }
      if (this.rec.pendingCommit) {
        throw new TetherError('DEVICE_BAD_REQUEST', 'The running firmware is on trial: commit it or roll back before sending another image.', {
          stage: 'check-update',
        });
      }
      const slot = otherSlot(this.rec.running);
      const sha = hex(req.sha256);
      const t = this.rec.transfer;
      if (t && t.slot === slot && t.size === req.size && t.version === req.version && t.sha256 === sha) {
        this.io.log(`firmware: resuming ${req.version} in slot ${slot} at ${t.have}/${t.size}`);
        return { transferId: t.transferId, slot, have: t.have };
      }
      // A new image replaces whatever the inactive slot held (the backup, or an abandoned transfer).
      await this.io.store.clearImage(this.io.serial, slot);
      const transferId = randomInt(1, 0xffffffff);
      await this.update({
        ...this.rec,
        nextBoot: this.rec.nextBoot === slot ? null : this.rec.nextBoot,
        slots: { ...this.rec.slots, [slot]: { state: 'receiving', version: null, size: req.size, sha256: sha } },
        transfer: { transferId, slot, version: req.version, size: req.size, sha256: sha, have: 0, verified: false },
      });
      this.io.log(`firmware: receiving ${req.version} (${req.size} bytes) into slot ${slot}`);
      return { transferId, slot, have: 0 };
    });
  }

  /** Stores one chunk; data the phone already holds (a resend after a resume) is skipped. Returns `have`. */
  write(chunk: BulkChunk): Promise<number> {
    return this.serial(async () => {
      const t = this.transferFor(chunk.transferId);
      const end = chunk.offset + chunk.data.byteLength;
      if (!Number.isInteger(chunk.offset) || chunk.offset < 0 || chunk.offset > t.have || end > t.size) {
        throw new TetherError('DEVICE_FIRMWARE_OUT_OF_RANGE', `Firmware data at ${chunk.offset}…${end} does not follow the ${t.have} bytes held (image ${t.size}).`, {
          detail: { offset: chunk.offset, length: chunk.data.byteLength, have: t.have, size: t.size },
        });
      }
      if (end <= t.have) return t.have;
      const fresh = chunk.data.subarray(t.have - chunk.offset);
      await this.io.store.writeImage(this.io.serial, t.slot, t.have, fresh);
      const have = t.have + fresh.byteLength;
      const next = { ...this.rec, transfer: { ...t, have } };
      if (have === t.size || have - this.persistedHave >= this.persistEveryBytes) await this.update(next);
      else this.rec = next;
      return have;
    });
  }

  verify(transferId: number): Promise<FirmwareVerifyReply> {
    return this.serial(async () => {
      const t = this.transferFor(transferId);
      if (t.have < t.size) {
        throw new TetherError('DEVICE_FIRMWARE_INCOMPLETE', `The phone holds ${t.have} of ${t.size} bytes.`, { detail: { have: t.have, size: t.size } });
      }
      const image = await this.io.store.readImage(this.io.serial, t.slot, t.size);
      const digest = createHash('sha256').update(image).digest();
      if (image.byteLength !== t.size || digest.toString('hex') !== t.sha256) {
        // Never keep a corrupt image: the slot is emptied and the transfer forgotten.
        await this.io.store.clearImage(this.io.serial, t.slot);
        await this.update({ ...this.rec, slots: { ...this.rec.slots, [t.slot]: EMPTY_SLOT }, transfer: null });
        this.io.log(`firmware: ${t.version} in slot ${t.slot} failed its SHA-256 check; slot emptied`);
        throw new TetherError('DEVICE_FIRMWARE_HASH_MISMATCH', undefined, { detail: { slot: t.slot, version: t.version } });
      }
      await this.update({
        ...this.rec,
        slots: { ...this.rec.slots, [t.slot]: { state: 'verified', version: t.version, size: t.size, sha256: t.sha256 } },
        transfer: { ...t, verified: true },
      });
      this.io.log(`firmware: ${t.version} in slot ${t.slot} verified`);
      return { sha256: new Uint8Array(digest) };
    });
  }

  /** Marks the verified image to boot next; the caller reboots the phone. */
  activate(transferId: number): Promise<FirmwareSlot> {
    return this.serial(async () => {
      const t = this.transferFor(transferId);
      if (!t.verified || this.rec.slots[t.slot].state !== 'verified') throw new TetherError('DEVICE_FIRMWARE_NOT_VERIFIED');
      await this.update({
        ...this.rec,
        nextBoot: t.slot,
        slots: { ...this.rec.slots, [t.slot]: { ...this.rec.slots[t.slot], state: 'pending' } },
        transfer: null,
      });
      this.io.log(`firmware: ${t.version} in slot ${t.slot} activated; booting it on trial next`);
      return t.slot;
    });
  }

  commit(): Promise<FirmwareSlotReply> {
    return this.serial(async () => {
      if (!this.rec.pendingCommit) throw new TetherError('DEVICE_FIRMWARE_NOTHING_TO_COMMIT');
      const slot = this.rec.running;
      await this.update({ ...this.rec, pendingCommit: false, slots: { ...this.rec.slots, [slot]: { ...this.rec.slots[slot], state: 'committed' } } });
      this.io.log(`firmware: ${this.runningVersion} in slot ${slot} committed`);
      return { slot, version: this.runningVersion };
    });
  }

  /** Chooses the other, committed slot to boot next; the caller reboots the phone. */
  rollback(): Promise<FirmwareSlotReply> {
    return this.serial(async () => {
      const other = otherSlot(this.rec.running);
      const target = this.rec.slots[other];
      if (target.state !== 'committed' || target.version === null) throw new TetherError('DEVICE_FIRMWARE_NO_ROLLBACK');
      await this.update({ ...this.rec, nextBoot: other });
      this.io.log(`firmware: rolling back to ${target.version} in slot ${other}`);
      return { slot: other, version: target.version };
    });
  }

  /**
   * The boot loader at power-on. `newImageFails()` is asked only when a new image is about to boot
   * and makes that boot fail (a fault). A trial image that was not committed before this boot is
   * abandoned for the committed slot.
   */
  boot(newImageFails: () => boolean = () => false): Promise<BootOutcome> {
    return this.serial(async () => {
      const r = this.rec;
      let note: string | null = null;
      let next: FirmwareRecord = r;
      const target = r.nextBoot;
      if (target !== null && target !== r.running) {
        const t = r.slots[target];
        if (t.state === 'pending') {
          // The boot loader checks the image again: flash that changed since verify never boots.
          const corrupt = !(await this.intact(target));
          if (corrupt || newImageFails()) {
            await this.io.store.clearImage(this.io.serial, target);
            next = { ...r, nextBoot: null, slots: { ...r.slots, [target]: EMPTY_SLOT } };
            note = `firmware: ${t.version} in slot ${target} ${corrupt ? 'failed its SHA-256 check at boot' : 'failed to boot'}; slot emptied, back on slot ${r.running}`;
          } else {
            next = { ...r, running: target, nextBoot: null, pendingCommit: true, slots: { ...r.slots, [target]: { ...t, state: 'active' } } };
            note = `firmware: booted ${t.version} from slot ${target} on trial (commit to keep it)`;
          }
        } else if (t.state === 'committed' && !(await this.intact(target))) {
          next = { ...r, nextBoot: null };
          note = `firmware: ${t.version} in slot ${target} failed its SHA-256 check; staying on slot ${r.running}`;
        } else if (t.state === 'committed') {
          const slots = r.pendingCommit ? { ...r.slots, [r.running]: { ...r.slots[r.running], state: 'verified' as const } } : r.slots;
          next = { ...r, running: target, nextBoot: null, pendingCommit: false, slots };
          note = `firmware: rolled back to ${t.version} in slot ${target}`;
        } else {
          next = { ...r, nextBoot: null };
          note = `firmware: slot ${target} is not bootable (${t.state}); staying on slot ${r.running}`;
        }
      } else if (r.pendingCommit) {
        const back = otherSlot(r.running);
        next = {
          ...r,
          running: back,
          nextBoot: null,
          pendingCommit: false,
          slots: { ...r.slots, [r.running]: { ...r.slots[r.running], state: 'verified' } },
        };
        note = `firmware: ${r.slots[r.running].version} was not committed; back on ${r.slots[back].version} in slot ${back}`;
      } else if (target !== null) {
        next = { ...r, nextBoot: null };
      }
      if (next !== r) await this.update(next);
      if (note) this.io.log(note);
      return { slot: this.rec.running, version: this.runningVersion, note };
    });
  }

  /** True when the slot's bytes still hash to its recorded SHA-256 (the factory image records none). */
  private async intact(slot: FirmwareSlot): Promise<boolean> {
    const s = this.rec.slots[slot];
    if (s.sha256 === null) return true;
    const image = await this.io.store.readImage(this.io.serial, slot, s.size);
    return image.byteLength === s.size && createHash('sha256').update(image).digest('hex') === s.sha256;
  }

  private transferFor(transferId: number) {
    const t = this.rec.transfer;
    if (!t || t.transferId !== transferId) {
      throw new TetherError('DEVICE_FIRMWARE_NO_TRANSFER', undefined, { detail: { transferId } });
    }
    return t;
  }

  private async update(next: FirmwareRecord): Promise<void> {
    this.rec = next;
    this.persistedHave = next.transfer?.have ?? 0;
    await this.io.save(next);
  }

  /** One firmware operation at a time (handlers and bulk chunks may interleave). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }
}
