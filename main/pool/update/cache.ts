import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TetherError } from '../../../common/errors';
import { isFileName, storePath, type DeviceIdentity, type OfferedModule } from '../../../common/pool/device-update-wire';
import { downloadVerified } from './download';
import type { UpdateHttpOptions } from './http';

export interface CachedImage {
  readonly path: string;
  readonly fileName: string;
  readonly version: string;
  readonly size: number;
  readonly sha256: string;
  /** 'download': fetched now; 'cache': already on disk; 'shared': joined a download already running. */
  readonly via: 'download' | 'cache' | 'shared';
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
  /** Network downloads completed by this cache (a diagnostics counter; tests read it). */
  downloads = 0;

  constructor(readonly dir: string) {}

  pathFor(identity: Pick<DeviceIdentity, 'deviceType' | 'vendor' | 'model' | 'revision' | 'locale'>, module: Pick<OfferedModule, 'version' | 'fileName'>): string {
    if (!isFileName(module.fileName)) throw new TetherError('BAD_INPUT', `'${module.fileName.slice(0, 100)}' is not a plain file name.`, { stage: 'check-update' });
    // storePath validates every segment, so nothing from the network can climb out of `dir`.
    return join(this.dir, ...storePath(identity, module.version).split('/'), module.fileName);
  }

  /** The image at `baseUrl/<fileName>`, from the cache or downloaded once. */
  get(identity: DeviceIdentity, module: OfferedModule, baseUrl: string, options: UpdateHttpOptions): Promise<CachedImage> {
    const path = this.pathFor(identity, module);
    const key = `${path}\n${module.sha256}`;
    const running = this.inflight.get(key);
    if (running) return running.then((img) => ({ ...img, via: 'shared' as const }));
    const job = this.load(path, module, baseUrl, options).finally(() => this.inflight.delete(key));
    this.inflight.set(key, job);
    return job;
  }

  private async load(path: string, module: OfferedModule, baseUrl: string, options: UpdateHttpOptions): Promise<CachedImage> {
    const image = { path, fileName: module.fileName, version: module.version, size: module.size, sha256: module.sha256 };
    const existing = await stat(path).catch(() => null);
    if (existing?.isFile()) {
      // Re-check a cached copy: a damaged file must never reach a phone.
      if (existing.size === module.size && (await sha256OfFile(path)) === module.sha256) return { ...image, via: 'cache' };
      await unlink(path).catch(() => undefined);
    }
    const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(module.fileName)}`);
    await downloadVerified(url, module, path, options);
    this.downloads++;
    return { ...image, via: 'download' };
  }
}
