import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TetherError } from '../../common/errors';
import { tempPathFor, writeFileAtomic } from '../state';
import {
  isFileName,
  isPathSegment,
  isVersion,
  MAX_SIGNATURE_SIZE,
  normaliseMac,
  storePath,
  type DeviceIdentity,
  type OfferedModule,
} from '../../common/pool/device-update-wire';

/** What an image is for: the store's path without the version [S21]. */
export interface DeviceKind {
  readonly deviceType: string;
  readonly vendor: string;
  readonly model: string;
  readonly revision: string;
  readonly locale: string;
}

export interface StoredImage extends DeviceKind, OfferedModule {}

/** One rule per device kind, as Lync keeps them per pool: a pending and an approved version [S19][S23]. */
export interface UpdateRule extends DeviceKind {
  pending: string | null;
  approved: string | null;
}

export interface TestDevice {
  readonly type: 'MACAddress' | 'SerialNumber';
  readonly identifier: string;
}

interface StoreFile {
  version: 1;
  images: StoredImage[];
  rules: UpdateRule[];
  testDevices: TestDevice[];
}

export interface ImportImage extends Partial<Pick<DeviceKind, 'deviceType'>>, Omit<DeviceKind, 'deviceType'> {
  readonly version: string;
  /** Default CPE.nbt (the image) and CPE.cat (its signature); the names are our example. */
  readonly fileName?: string;
  readonly signatureFileName?: string;
  readonly timestamp?: string;
  readonly data: Uint8Array | AsyncIterable<Uint8Array>;
  /**
   * The signature file's bytes (a real `.cat` when importing a real update). Absent: the lab writes
   * its own small opaque blob (see labSignature) — the client only checks its size and SHA-256.
   */
  readonly signature?: Uint8Array;
}

export type Selection = { image: StoredImage; why: 'pending-for-test-device' | 'approved' } | { image: null; why: string };

/**
 * The signature the lab stores when an import brings none. OUR MODEL: an opaque blob naming the image
 * and its SHA-256 — NOT a real Authenticode catalog or CMS signature, and nothing in the lab verifies
 * it. It exists so the client has a real file to fetch, verify and cache beside the image.
 */
export function labSignature(image: { fileName: string; version: string; sha256: string }): Uint8Array {
  return new TextEncoder().encode(`TETHER-LAB-SIGNATURE/1\nfile=${image.fileName}\nversion=${image.version}\nsha256=${image.sha256}\n`);
}

/** Streams `data` into `path` through a temporary file (renamed once synced), hashing as it goes. */
async function writeHashed(path: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<{ size: number; sha256: string }> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path); // a lab that starts after a crash mid-import removes it
  const hash = createHash('sha256');
  let size = 0;
  const file = await open(tmp, 'wx');
  try {
    const chunks = data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      await file.write(chunk);
    }
    await file.sync();
    await file.close();
    await rename(tmp, path);
  } catch (err) {
    await file.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return { size, sha256: hash.digest('hex') };
}

const kindKey = (k: DeviceKind) => [k.deviceType, k.vendor, k.model, k.revision, k.locale].join('/').toLowerCase();

/**
 * The lab's Device Update store: image files under `<stateDir>/device-update/files/<store path>/`,
 * and rules and test devices in `store.json`. It follows Lync's behaviour: an import creates a
 * pending rule; test devices (by MAC or serial) get pending versions; every device takes an
 * approved version whenever it differs from what it runs, even an older one (rollback) [S22][S23].
 */
export class DeviceUpdateStore {
  private constructor(
    readonly dir: string,
    private state: StoreFile,
  ) {}

  static async open(stateDir: string): Promise<DeviceUpdateStore> {
    const dir = join(stateDir, 'device-update');
    await mkdir(join(dir, 'files'), { recursive: true });
    return new DeviceUpdateStore(dir, await DeviceUpdateStore.withSignatures(dir, await DeviceUpdateStore.read(dir)));
  }

  private static async read(dir: string): Promise<StoreFile> {
    try {
      const parsed = JSON.parse(await readFile(join(dir, 'store.json'), 'utf8')) as StoreFile;
      if (parsed.version === 1 && Array.isArray(parsed.images) && Array.isArray(parsed.rules) && Array.isArray(parsed.testDevices)) return parsed;
      throw new Error('unknown layout');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return { version: 1, images: [], rules: [], testDevices: [] };
      // Like every lab state file (docs/lab.md, "State folder"): name it, never replace it.
      const path = join(dir, 'store.json');
      throw new TetherError('LAB_STATE_CORRUPT', `The Device Update store ${path} cannot be read: ${(err as Error).message}`, { detail: { path }, cause: err });
    }
  }

  /**
   * A store written before signatures were tracked has images without signatureSize/Sha256: give
   * each the signature file found beside it, or write the lab's blob there, so every answer is whole.
   */
  private static async withSignatures(dir: string, state: StoreFile): Promise<StoreFile> {
    const images = await Promise.all(
      state.images.map(async (image) => {
        if (typeof image.signatureSize === 'number' && typeof image.signatureSha256 === 'string') return image;
        const path = join(dir, 'files', ...storePath(image, image.version).split('/'), image.signatureFileName);
        const existing = await readFile(path).catch(() => null);
        const bytes = existing ?? labSignature(image);
        if (existing === null) await writeHashed(path, bytes);
        return { ...image, signatureSize: bytes.length, signatureSha256: createHash('sha256').update(bytes).digest('hex') };
      }),
    );
    return { ...state, images };
  }

  /** Re-reads store.json, so imports and approvals made by another process (the demo, a test) show. */
  async reload(): Promise<void> {
    this.state = await DeviceUpdateStore.withSignatures(this.dir, await DeviceUpdateStore.read(this.dir));
  }

  private async save(): Promise<void> {
    await writeFileAtomic(join(this.dir, 'store.json'), JSON.stringify(this.state, null, 2));
  }

  /** Absolute path of a store file, from its store-relative path; null when the path is not one of ours. */
  fileFor(relative: string): string | null {
    const parts = relative.split('/');
    // <DeviceType>/<Vendor>/<Model>/<Revision>/<Locale>/<Version>/CPE/<file>
    if (parts.length !== 8 || parts[6] !== 'CPE') return null;
    const [deviceType, vendor, model, revision, locale, version, , fileName] = parts as [string, string, string, string, string, string, string, string];
    if (![deviceType, vendor, model, revision, locale].every(isPathSegment) || !isVersion(version) || !isFileName(fileName)) return null;
    return join(this.dir, 'files', ...parts);
  }

  images(): readonly StoredImage[] {
    return this.state.images;
  }

  rules(): readonly UpdateRule[] {
    return this.state.rules;
  }

  rule(kind: DeviceKind): UpdateRule | undefined {
    return this.state.rules.find((r) => kindKey(r) === kindKey(kind));
  }

  /**
   * Import-CsDeviceUpdate for one image: stores the file (streamed, hashed as it is written) and its
   * signature file beside it, and makes its version the kind's pending version.
   */
  async importImage(input: ImportImage): Promise<StoredImage> {
    const kind: DeviceKind = {
      deviceType: input.deviceType ?? 'UCPhone',
      vendor: input.vendor,
      model: input.model,
      revision: input.revision,
      locale: input.locale,
    };
    const fileName = input.fileName ?? 'CPE.nbt';
    const signatureFileName = input.signatureFileName ?? 'CPE.cat';
    if (!isFileName(fileName) || !isFileName(signatureFileName)) throw new TetherError('BAD_INPUT', 'Image and signature names must be plain file names.');
    if (fileName === signatureFileName) throw new TetherError('BAD_INPUT', 'The image and its signature file need different names.');
    if (input.signature !== undefined && input.signature.length > MAX_SIGNATURE_SIZE) {
      throw new TetherError('BAD_INPUT', `The signature file is larger than ${MAX_SIGNATURE_SIZE} bytes.`);
    }
    const dir = join(this.dir, 'files', ...storePath(kind, input.version).split('/'));
    const { size, sha256 } = await writeHashed(join(dir, fileName), input.data);
    const signature = await writeHashed(
      join(dir, signatureFileName),
      input.signature ?? labSignature({ fileName, version: input.version, sha256 }),
    );
    const image: StoredImage = {
      ...kind,
      fileName,
      signatureFileName,
      version: input.version,
      timestamp: input.timestamp ?? new Date().toISOString(),
      size,
      sha256,
      signatureSize: signature.size,
      signatureSha256: signature.sha256,
    };
    this.state.images = this.state.images.filter((i) => !(kindKey(i) === kindKey(kind) && i.version === image.version && i.fileName === fileName));
    this.state.images.push(image);
    const rule = this.rule(kind);
    if (rule) rule.pending = image.version;
    else this.state.rules.push({ ...kind, pending: image.version, approved: null });
    await this.save();
    return image;
  }

  /**
   * Approve-CsDeviceUpdateRule: the pending version becomes approved; with `version`, that stored
   * version is approved instead (how an admin rolls back to an older image).
   */
  async approve(kind: DeviceKind, version?: string): Promise<UpdateRule> {
    const rule = this.rule(kind);
    if (!rule) throw new TetherError('BAD_INPUT', `No update rule for ${kindKey(kind)}.`);
    const target = version ?? rule.pending;
    if (target === null) throw new TetherError('BAD_INPUT', `Nothing pending for ${kindKey(kind)}.`);
    if (!this.state.images.some((i) => kindKey(i) === kindKey(kind) && i.version === target)) {
      throw new TetherError('BAD_INPUT', `Version ${target} of ${kindKey(kind)} is not in the store.`);
    }
    rule.approved = target;
    if (rule.pending === target) rule.pending = null;
    await this.save();
    return rule;
  }

  /** New-CsTestDevice -IdentifierType MACAddress|SerialNumber [S23]. */
  async addTestDevice(device: TestDevice): Promise<void> {
    const identifier = device.type === 'MACAddress' ? normaliseMac(device.identifier) : device.identifier;
    if (!this.state.testDevices.some((d) => d.type === device.type && d.identifier === identifier)) {
      this.state.testDevices.push({ type: device.type, identifier });
      await this.save();
    }
  }

  isTestDevice(id: Pick<DeviceIdentity, 'mac' | 'serial'>): boolean {
    const mac = normaliseMac(id.mac);
    return this.state.testDevices.some((d) => (d.type === 'MACAddress' ? d.identifier === mac : d.identifier === id.serial));
  }

  /** What this device should be given now, and why (or why nothing). */
  select(id: DeviceIdentity): Selection {
    const rule = this.rule(id);
    if (!rule) return { image: null, why: 'no update rule for this device kind' };
    const images = this.state.images.filter((i) => kindKey(i) === kindKey(id));
    const running = (version: string) => {
      const image = images.find((i) => i.version === version)!;
      // The version the phone runs for this file; a phone that reports none takes anything.
      return { image, current: id.modules.find((m) => m.fileName.toLowerCase() === image.fileName.toLowerCase())?.version };
    };
    if (rule.pending !== null && this.isTestDevice(id)) {
      const { image, current } = running(rule.pending);
      if (image && current !== rule.pending) return { image, why: 'pending-for-test-device' };
    }
    if (rule.approved !== null) {
      const { image, current } = running(rule.approved);
      // "Differs", not "is newer": that is how a rollback reaches phones [S22].
      if (image && current !== rule.approved) return { image, why: 'approved' };
      return { image: null, why: `the device already runs the approved version ${rule.approved}` };
    }
    return { image: null, why: 'nothing approved for this device kind (pending updates go to test devices only)' };
  }
}

/** Opens the store in a lab state folder and imports one image (optionally approving it at once). */
export async function importDeviceUpdateImage(stateDir: string, input: ImportImage & { approve?: boolean }): Promise<StoredImage> {
  const store = await DeviceUpdateStore.open(stateDir);
  const image = await store.importImage(input);
  if (input.approve) await store.approve(image, image.version);
  return image;
}
