import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { TetherError } from '../../../common/errors';
import type { FirmwareSlot, PoolEndpoints } from '../../protocol/messages';

/** One firmware slot as the phone's flash records it. */
export interface SlotRecord {
  readonly state: 'empty' | 'receiving' | 'verified' | 'pending' | 'active' | 'committed';
  /** Version of a complete image in the slot (null while empty or receiving). */
  readonly version: string | null;
  /** Size and SHA-256 (hex) of the image in the slot, once complete. */
  readonly size: number;
  readonly sha256: string | null;
}

/** The image being received, so a transfer resumes after an unplug or a reboot. */
export interface TransferRecord {
  readonly transferId: number;
  readonly slot: FirmwareSlot;
  readonly version: string;
  readonly size: number;
  readonly sha256: string;
  readonly have: number;
  readonly verified: boolean;
}

export interface FirmwareRecord {
  /** Slot the phone boots from. */
  readonly running: FirmwareSlot;
  /** The running image was activated but not committed: the next boot falls back. */
  readonly pendingCommit: boolean;
  /** Slot the next boot tries (set by activate or rollback), or null. */
  readonly nextBoot: FirmwareSlot | null;
  readonly slots: Readonly<Record<FirmwareSlot, SlotRecord>>;
  readonly transfer: TransferRecord | null;
}

/**
 * A PC the phone paired with by code (docs/tether-protocol.md §5.7): its long-term Ed25519 public
 * key (not a secret) and when it was paired and last recognised, for least-recently-used eviction.
 */
export interface KnownHostRecord {
  /** Raw 32-byte Ed25519 public key, hex. */
  readonly key: string;
  readonly pairedAt: string;
  readonly lastUsed: string;
}

/** How many PCs a phone remembers; pairing with one more forgets the least recently used. */
export const MAX_KNOWN_HOSTS = 8;

/** The vault name of the phone's long-term pairing key (a serial never contains "/"). */
export function pairingKeyName(serial: string): string {
  return `${serial}/pairing`;
}

/**
 * Everything the phone keeps across reboots and re-plugs (its flash). Never credentials, never a
 * PIN, never a private key (see PhoneKeyVault).
 */
export interface PersistedPhone {
  readonly format: 1;
  readonly modelId: string;
  readonly serial: string;
  readonly firmware: FirmwareRecord;
  /** DER certificates of the installed CA chain, base64, root first. */
  readonly caChain: readonly string[];
  /** The installed certificate and its issuing chain, DER base64. */
  readonly certificate: { readonly der: string; readonly chain: readonly string[] } | null;
  readonly poolEndpoints: PoolEndpoints | null;
  /** Recent log lines (bounded), newest last. Secrets are never logged. */
  readonly log: readonly string[];
  /** PCs that pair without a code, at most MAX_KNOWN_HOSTS (absent in records written before §5.7). */
  readonly knownHosts?: readonly KnownHostRecord[];
}

/**
 * Where a phone's private keys live: process memory only, a stand-in for the phone's secure key
 * storage (secrets never reach disk, RULES). Two per phone: the RSA key of its certificate under
 * its serial, and its long-term pairing key under pairingKeyName(serial). A store that outlives
 * the process keeps the certificate and the known PCs but not the keys; the phone then drops both
 * at boot (a code is shown again, as after a wipe).
 */
export interface PhoneKeyVault {
  get(serial: string): KeyObject | undefined;
  set(serial: string, key: KeyObject): void;
  delete(serial: string): void;
}

/** A phone's flash: the persisted record and the two firmware slot images. */
export interface PhoneStore {
  readonly keys: PhoneKeyVault;
  load(serial: string): Promise<PersistedPhone | null>;
  save(state: PersistedPhone): Promise<void>;
  /** Writes image bytes at `offset` of a slot (the slot grows as needed). */
  writeImage(serial: string, slot: FirmwareSlot, offset: number, data: Uint8Array): Promise<void>;
  /** The first `length` bytes of a slot's image (fewer if the slot holds fewer). */
  readImage(serial: string, slot: FirmwareSlot, length: number): Promise<Uint8Array>;
  /** Bytes a slot's image file holds. */
  imageLength(serial: string, slot: FirmwareSlot): Promise<number>;
  clearImage(serial: string, slot: FirmwareSlot): Promise<void>;
}

class MemoryKeyVault implements PhoneKeyVault {
  private readonly keys = new Map<string, KeyObject>();
  get(serial: string): KeyObject | undefined {
    return this.keys.get(serial);
  }
  set(serial: string, key: KeyObject): void {
    this.keys.set(serial, key);
  }
  delete(serial: string): void {
    this.keys.delete(serial);
  }
}

/** A serial is used as a folder name: keep it to a safe alphabet. */
export function checkSerial(serial: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(serial)) {
    throw new TetherError('BAD_INPUT', 'A virtual phone serial is 1–64 characters of A–Z, a–z, 0–9, ".", "_" or "-".', { detail: { serial } });
  }
  return serial;
}

/** Bytes per page of a memory store's slot image: writes copy into pages, nothing is ever re-copied to grow. */
const MEMORY_PAGE_BYTES = 1 << 20;

/** Flash in memory (tests, the demo): survives re-creating a phone with the same serial in this process. */
export class MemoryPhoneStore implements PhoneStore {
  readonly keys: PhoneKeyVault = new MemoryKeyVault();
  private readonly records = new Map<string, string>();
  /** Slot images as fixed pages (a 64 MiB push used to spend a fifth of its CPU growing one buffer). */
  private readonly images = new Map<string, Uint8Array[]>();
  private readonly lengths = new Map<string, number>();

  async load(serial: string): Promise<PersistedPhone | null> {
    const json = this.records.get(serial);
    return json === undefined ? null : (JSON.parse(json) as PersistedPhone);
  }

  async save(state: PersistedPhone): Promise<void> {
    // Stored as JSON so a caller cannot change the flash by mutating what it saved or loaded.
    this.records.set(state.serial, JSON.stringify(state));
  }

  async writeImage(serial: string, slot: FirmwareSlot, offset: number, data: Uint8Array): Promise<void> {
    const key = `${serial}/${slot}`;
    let pages = this.images.get(key);
    if (!pages) this.images.set(key, (pages = []));
    for (let done = 0; done < data.byteLength; ) {
      const at = offset + done;
      const index = Math.floor(at / MEMORY_PAGE_BYTES);
      const within = at % MEMORY_PAGE_BYTES;
      const n = Math.min(MEMORY_PAGE_BYTES - within, data.byteLength - done);
      while (pages.length <= index) pages.push(new Uint8Array(MEMORY_PAGE_BYTES));
      pages[index]!.set(data.subarray(done, done + n), within);
      done += n;
    }
    this.lengths.set(key, Math.max(this.lengths.get(key) ?? 0, offset + data.byteLength));
  }

  async readImage(serial: string, slot: FirmwareSlot, length: number): Promise<Uint8Array> {
    const key = `${serial}/${slot}`;
    const pages = this.images.get(key) ?? [];
    const out = new Uint8Array(Math.min(length, this.lengths.get(key) ?? 0));
    for (let at = 0; at < out.byteLength; at += MEMORY_PAGE_BYTES) {
      out.set(pages[at / MEMORY_PAGE_BYTES]!.subarray(0, Math.min(MEMORY_PAGE_BYTES, out.byteLength - at)), at);
    }
    return out;
  }

  async imageLength(serial: string, slot: FirmwareSlot): Promise<number> {
    return this.lengths.get(`${serial}/${slot}`) ?? 0;
  }

  async clearImage(serial: string, slot: FirmwareSlot): Promise<void> {
    this.images.delete(`${serial}/${slot}`);
    this.lengths.delete(`${serial}/${slot}`);
  }
}

/**
 * Flash in a folder: `<root>/<serial>/state.json` (written to a temporary file and renamed, so a
 * crash leaves the old or the new record, never half of one) and `slot-a.img`, `slot-b.img`.
 */
export class FolderPhoneStore implements PhoneStore {
  readonly keys: PhoneKeyVault = new MemoryKeyVault();

  constructor(readonly root: string) {}

  private dir(serial: string): string {
    return join(this.root, checkSerial(serial));
  }

  private image(serial: string, slot: FirmwareSlot): string {
    return join(this.dir(serial), `slot-${slot}.img`);
  }

  async load(serial: string): Promise<PersistedPhone | null> {
    let text: string;
    try {
      text = await readFile(join(this.dir(serial), 'state.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as PersistedPhone;
      if (parsed.format !== 1 || parsed.serial !== serial) throw new Error('unexpected record');
      return parsed;
    } catch (cause) {
      throw new TetherError('BAD_INPUT', `The virtual phone's state file for ${serial} is not readable; move it aside to start from factory state.`, {
        detail: { serial },
        cause,
      });
    }
  }

  async save(state: PersistedPhone): Promise<void> {
    const dir = this.dir(state.serial);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `state.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(tmp, JSON.stringify(state, null, 1));
    await rename(tmp, join(dir, 'state.json'));
  }

  async writeImage(serial: string, slot: FirmwareSlot, offset: number, data: Uint8Array): Promise<void> {
    await mkdir(this.dir(serial), { recursive: true });
    const path = this.image(serial, slot);
    // 'r+' writes at any offset without truncating; the first write creates the file.
    const fh = await open(path, 'r+').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return open(path, 'w+');
      throw err;
    });
    try {
      await fh.write(data, 0, data.byteLength, offset);
    } finally {
      await fh.close();
    }
  }

  async readImage(serial: string, slot: FirmwareSlot, length: number): Promise<Uint8Array> {
    try {
      const buf = await readFile(this.image(serial, slot));
      return new Uint8Array(buf.buffer, buf.byteOffset, Math.min(length, buf.byteLength));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array(0);
      throw err;
    }
  }

  async imageLength(serial: string, slot: FirmwareSlot): Promise<number> {
    try {
      return (await stat(this.image(serial, slot))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  async clearImage(serial: string, slot: FirmwareSlot): Promise<void> {
    await rm(this.image(serial, slot), { force: true });
  }
}
