import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TetherError } from '../../../common/errors';
import { isFileName, storePath, type DeviceIdentity, type OfferedModule } from '../../../common/pool/device-update-wire';
import { downloadVerified, type ExpectedImage } from './download';
import type { UpdateHttpOptions } from './http';

export interface CachedFile {
  readonly path: string;
  readonly fileName: string;
  readonly size: number;
  readonly sha256: string;
  /** 'download': fetched now; 'cache': already on disk; 'shared': joined a download already running. */
  readonly via: 'download' | 'cache' | 'shared';
}

export interface CachedImage extends CachedFile {
  readonly version: string;
  /** The module's signature file (`SignatureFileName`), verified and cached beside the image. */
  readonly signature: CachedFile;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Update images on disk, keyed by device type/vendor/model/revision/locale/version (the store's own
 * path [S21]) so every phone of a kind shares one copy. Concurrent requests for one image share one
 * download; a finished image appears by atomic rename only after its size and SHA-256 check out.
 */
export class ImageCache {
  private readonly inflight = new Map<string, Promise<CachedImage>>();
  /** Image downloads completed by this cache (a diagnostics counter; tests read it). */
  downloads = 0;
  /** Signature file downloads completed by this cache. */
  signatureDownloads = 0;

  constructor(readonly dir: string) {}

  pathFor(identity: Pick<DeviceIdentity, 'deviceType' | 'vendor' | 'model' | 'revision' | 'locale'>, module: Pick<OfferedModule, 'version' | 'fileName'>): string {
    if (!isFileName(module.fileName)) throw new TetherError('BAD_INPUT', `'${module.fileName.slice(0, 100)}' is not a plain file name.`, { stage: 'check-update' });
    // storePath validates every segment, so nothing from the network can climb out of `dir`.
    return join(this.dir, ...storePath(identity, module.version).split('/'), module.fileName);
  }

  /**
   * The image at `baseUrl/<fileName>` and its signature at `baseUrl/<signatureFileName>`, each from
   * the cache or downloaded once. A phone needs both, so the pair succeeds or fails together.
   */
  get(identity: DeviceIdentity, module: OfferedModule, baseUrl: string, options: UpdateHttpOptions): Promise<CachedImage> {
    const path = this.pathFor(identity, module);
    const signaturePath = this.pathFor(identity, { version: module.version, fileName: module.signatureFileName });
    if (signaturePath === path) {
      throw new TetherError('UPDATE_RESPONSE_MALFORMED', `${module.fileName} is named as its own signature file.`, { stage: 'check-update' });
    }
    const key = `${path}\n${module.sha256}\n${signaturePath}\n${module.signatureSha256}`;
    const running = this.inflight.get(key);
    if (running) return running.then((img) => ({ ...img, via: 'shared' as const, signature: { ...img.signature, via: 'shared' as const } }));
    const job = this.loadBoth(path, signaturePath, module, baseUrl, options).finally(() => this.inflight.delete(key));
    this.inflight.set(key, job);
    return job;
  }

  private async loadBoth(path: string, signaturePath: string, module: OfferedModule, baseUrl: string, options: UpdateHttpOptions): Promise<CachedImage> {
    const image = await this.load(path, { fileName: module.fileName, size: module.size, sha256: module.sha256, kind: 'image' }, baseUrl, options);
    const signature = await this.load(
      signaturePath,
      { fileName: module.signatureFileName, size: module.signatureSize, sha256: module.signatureSha256, kind: 'signature' },
      baseUrl,
      options,
    );
    return { ...image, version: module.version, signature };
  }

  private async load(path: string, file: ExpectedImage & { fileName: string }, baseUrl: string, options: UpdateHttpOptions): Promise<CachedFile> {
    const entry = { path, fileName: file.fileName, size: file.size, sha256: file.sha256 };
    const existing = await stat(path).catch(() => null);
    if (existing?.isFile()) {
      // Re-check a cached copy: a damaged file must never reach a phone.
      if (existing.size === file.size && (await sha256OfFile(path)) === file.sha256) return { ...entry, via: 'cache' };
      await unlink(path).catch(() => undefined);
    }
    const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(file.fileName)}`);
    await downloadVerified(url, file, path, options);
    if (file.kind === 'signature') this.signatureDownloads++;
    else this.downloads++;
    return { ...entry, via: 'download' };
  }
}
