import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, statfs, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TetherError } from '../../../common/errors';
import { MAX_IMAGE_SIZE } from '../../../common/pool/device-update-wire';
import { DOWNLOAD_TIMEOUTS, reachError, type UpdateHttpOptions } from './http';

export interface ExpectedImage {
  readonly size: number;
  /** Lower-case hex. */
  readonly sha256: string;
  /** Which file this is, for the error codes; default 'image'. */
  readonly kind?: 'image' | 'signature';
}

const CODES = {
  image: { missing: 'UPDATE_IMAGE_MISSING', size: 'UPDATE_IMAGE_SIZE_MISMATCH', hash: 'UPDATE_IMAGE_HASH_MISMATCH' },
  signature: { missing: 'UPDATE_SIGNATURE_MISSING', size: 'UPDATE_SIGNATURE_SIZE_MISMATCH', hash: 'UPDATE_SIGNATURE_HASH_MISMATCH' },
} as const;

/** Kept free beyond the file itself, so a download never takes a disk to its last byte. */
export const FREE_SPACE_RESERVE = 64 * 1024 * 1024;

async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/**
 * Refuses (UPDATE_NO_SPACE) to start writing `bytes` into `dir` when the disk has not that much
 * plus FREE_SPACE_RESERVE free. A disk that cannot say (statfs fails) is not refused: the write
 * itself still fails cleanly (UPDATE_CACHE_FAILED) if it fills up.
 */
export async function ensureFreeSpace(dir: string, bytes: number, options: Pick<UpdateHttpOptions, 'freeBytes'>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const free = await (options.freeBytes ?? statfsFree)(dir).catch(() => Number.POSITIVE_INFINITY);
  if (free < bytes + FREE_SPACE_RESERVE) {
    throw new TetherError('UPDATE_NO_SPACE', `${dir} has ${free} bytes free; ${bytes} are needed (and ${FREE_SPACE_RESERVE} kept free).`, {
      detail: { dir, free, needed: bytes },
    });
  }
}

/**
 * Downloads `url` into `finalPath`, checking size and SHA-256 as the bytes stream through (never
 * holding the whole image in memory). The bytes go to a temporary file beside `finalPath`, which
 * is renamed into place only once both checks pass, so a reader never sees a partial image.
 */
export async function downloadVerified(url: URL, expected: ExpectedImage, finalPath: string, options: UpdateHttpOptions): Promise<void> {
  const where = `${url.origin}${url.pathname}`;
  const codes = CODES[expected.kind ?? 'image'];
  // Before the request: nothing is fetched for a file the disk cannot hold.
  await ensureFreeSpace(dirname(finalPath), expected.size, options);
  let res;
  try {
    res = await options.http.stream({
      url,
      stage: 'check-update',
      acceptStatus: () => true,
      // Our own check below stops at the announced size; this only bounds a hostile answer.
      maxResponseBytes: MAX_IMAGE_SIZE + 1,
      timeouts: { ...DOWNLOAD_TIMEOUTS, ...options.timeouts },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    throw reachError(err, url, 'check-update');
  }
  if (res.status !== 200) {
    res.cancel();
    const detail = { url: where, status: res.status };
    if (res.status === 404 || res.status === 410) throw new TetherError(codes.missing, `${where} is not in the store (HTTP ${res.status}).`, { detail });
    if (res.status === 401 || res.status === 403) throw new TetherError('UPDATE_ANONYMOUS_DENIED', `${where} refused the anonymous download (HTTP ${res.status}).`, { detail });
    throw new TetherError('UPDATE_SERVICE_ERROR', `${where} answered HTTP ${res.status}.`, { detail });
  }
  const declared = res.headers['content-length'];
  if (declared !== undefined && Number(declared) !== expected.size) {
    res.cancel();
    throw new TetherError(codes.size, `${where} is ${declared} bytes; the service said ${expected.size}.`, {
      detail: { url: where, expected: expected.size, declared: Number(declared) },
    });
  }

  const partPath = `${finalPath}.part-${randomBytes(6).toString('hex')}`;
  let file;
  try {
    file = await open(partPath, 'wx');
  } catch (err) {
    res.cancel();
    throw new TetherError('UPDATE_CACHE_FAILED', `Cannot write ${partPath}: ${(err as Error).message}`, { cause: err });
  }
  const hash = createHash('sha256');
  let received = 0;
  let ok = false;
  try {
    try {
      for await (const chunk of res.body) {
        received += chunk.length;
        if (received > expected.size) {
          throw new TetherError(codes.size, `${where} sent more than the ${expected.size} bytes the service announced.`, {
            detail: { url: where, expected: expected.size, received },
          });
        }
        hash.update(chunk);
        await file.write(chunk);
      }
    } catch (err) {
      const code = err instanceof TetherError ? err.code : (err as { code?: string }).code;
      if (code === codes.size || code === 'HTTP_TIMEOUT' || code === 'CANCELLED') throw err;
      if (code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT') {
        throw new TetherError('UPDATE_CACHE_FAILED', `Writing the image failed: ${(err as Error).message}`, { cause: err });
      }
      throw new TetherError(codes.size, `${where} was cut short after ${received} of ${expected.size} bytes (${(err as Error).message}).`, {
        detail: { url: where, expected: expected.size, received },
        cause: err,
      });
    } finally {
      res.cancel();
    }
    if (received !== expected.size) {
      throw new TetherError(codes.size, `${where} ended after ${received} of ${expected.size} bytes.`, {
        detail: { url: where, expected: expected.size, received },
      });
    }
    const actual = hash.digest('hex');
    if (actual !== expected.sha256.toLowerCase()) {
      throw new TetherError(codes.hash, `${where} has SHA-256 ${actual}, not ${expected.sha256.toLowerCase()}.`, {
        detail: { url: where, expected: expected.sha256.toLowerCase(), actual },
      });
    }
    await file.sync();
    await file.close();
    file = undefined;
    await rename(partPath, finalPath);
    ok = true;
  } finally {
    await file?.close().catch(() => undefined);
    if (!ok) await unlink(partPath).catch(() => undefined);
  }
}
