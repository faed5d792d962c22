import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TetherError } from '../../common/errors';
import { ed25519FromPem, ed25519KeyPair, signEd25519, type Ed25519KeyPair, type HostPairingKeys } from '../../native/protocol';

/**
 * This PC's side of known hosts (docs/tether-protocol.md §5.7), kept in a private folder the caller
 * chooses (the user's data folder, e.g. `<data>/pairing`):
 *
 *   host-key.pem       this PC's long-term Ed25519 private key, PKCS#8 PEM, mode 0600
 *   known-phones.json  { format: 1, phones: { <serial>: { key: hex, pairedAt } } }, mode 0600
 *
 * The folder is created mode 0700. Writes go to a temporary file that is renamed, so a crash
 * leaves the old or the new file, never half of one. Phone keys are public; only host-key.pem is
 * secret, and it never leaves this module (sessions get sign(), not the key).
 */
export const HOST_KEY_FILE = 'host-key.pem';
export const KNOWN_PHONES_FILE = 'known-phones.json';
/** Phones this PC remembers; one more forgets the one paired longest ago (a helpdesk PC sees many). */
export const MAX_KNOWN_PHONES = 4096;

interface KnownPhone {
  readonly key: string;
  readonly pairedAt: string;
}

interface KnownPhonesFile {
  readonly format: 1;
  readonly phones: Record<string, KnownPhone>;
}

function unreadable(path: string, cause: unknown): TetherError {
  return new TetherError('BAD_INPUT', `Tether's pairing file ${path} is damaged; move it aside and pair the phones again by code.`, {
    detail: { path },
    cause,
  });
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function writePrivate(dir: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, join(dir, name));
}

function parsePhones(text: string, path: string): Map<string, KnownPhone> {
  let parsed: KnownPhonesFile;
  try {
    parsed = JSON.parse(text) as KnownPhonesFile;
    if (parsed.format !== 1 || typeof parsed.phones !== 'object' || parsed.phones === null) throw new Error('unexpected format');
  } catch (cause) {
    throw unreadable(path, cause);
  }
  const phones = new Map<string, KnownPhone>();
  for (const [serial, p] of Object.entries(parsed.phones)) {
    // A damaged entry costs that phone one code pairing, not the whole file.
    if (typeof p?.key === 'string' && /^[0-9a-f]{64}$/.test(p.key) && typeof p.pairedAt === 'string') phones.set(serial, p);
  }
  return phones;
}

export class HostPairingStore implements HostPairingKeys {
  readonly publicKey: Uint8Array;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly keys: Ed25519KeyPair,
    private readonly phones: Map<string, KnownPhone>,
    /** Null: in memory only (nothing written). */
    readonly folder: string | null,
    private readonly now: () => Date,
  ) {
    this.publicKey = keys.publicKey;
  }

  /**
   * Opens (or creates) the store in `folder`. A new host key makes every phone remembered with the
   * old one unknown, so known-phones.json is started afresh with it.
   */
  static async open(folder: string, options: { now?: () => Date } = {}): Promise<HostPairingStore> {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') await chmod(folder, 0o700);
    const keyPath = join(folder, HOST_KEY_FILE);
    const pem = await readOptional(keyPath);
    let keys: Ed25519KeyPair;
    let phones = new Map<string, KnownPhone>();
    if (pem === null) {
      keys = ed25519KeyPair();
      await writePrivate(folder, HOST_KEY_FILE, keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
      await writePrivate(folder, KNOWN_PHONES_FILE, JSON.stringify({ format: 1, phones: {} }));
    } else {
      try {
        keys = ed25519FromPem(pem);
      } catch (cause) {
        throw unreadable(keyPath, cause);
      }
      const phonesPath = join(folder, KNOWN_PHONES_FILE);
      const text = await readOptional(phonesPath);
      if (text !== null) phones = parsePhones(text, phonesPath);
    }
    return new HostPairingStore(keys, phones, folder, options.now ?? (() => new Date()));
  }

  /** A store that lives as long as the process: pair once per run (a reboot or replug needs no code). */
  static memory(): HostPairingStore {
    return new HostPairingStore(ed25519KeyPair(), new Map(), null, () => new Date());
  }

  sign(message: Uint8Array): Uint8Array {
    return signEd25519(this.keys.privateKey, message);
  }

  phoneKey(serial: string): Uint8Array | null {
    const p = this.phones.get(serial);
    return p ? new Uint8Array(Buffer.from(p.key, 'hex')) : null;
  }

  /** Serials this PC pairs with without a code. */
  serials(): string[] {
    return [...this.phones.keys()];
  }

  async remember(serial: string, phoneKey: Uint8Array): Promise<void> {
    this.phones.delete(serial); // re-inserted last: the map's order is the pairing order
    this.phones.set(serial, { key: Buffer.from(phoneKey).toString('hex'), pairedAt: this.now().toISOString() });
    while (this.phones.size > MAX_KNOWN_PHONES) this.phones.delete(this.phones.keys().next().value!);
    await this.save();
  }

  /** The helpdesk's "forget this phone": its next session shows a code. */
  async forget(serial: string): Promise<void> {
    if (this.phones.delete(serial)) await this.save();
  }

  private save(): Promise<void> {
    if (this.folder === null) return Promise.resolve();
    const folder = this.folder;
    const text = JSON.stringify({ format: 1, phones: Object.fromEntries(this.phones) } satisfies KnownPhonesFile, null, 1);
    // Saves are ordered, so an older list never overwrites a newer one.
    const run = this.saving.then(() => writePrivate(folder, KNOWN_PHONES_FILE, text));
    this.saving = run.catch(() => {});
    return run;
  }
}
