import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TetherError } from '../../../common/errors';
import { networkReason, send, type UpdateHttpOptions } from './http';

export interface ExpectedImage {
  readonly size: number;
  /** Lower-case hex. */
  readonly sha256: string;
}

/**
 * Downloads `url` into `finalPath`, checking size and SHA-256 as the bytes stream through (never
 * holding the whole image in memory). The bytes go to a temporary file beside `finalPath`, which
 * is renamed into place only once both checks pass, so a reader never sees a partial image.
 */
export async function downloadVerified(url: URL, expected: ExpectedImage, finalPath: string, options: UpdateHttpOptions = {}): Promise<void> {
  let res;
  try {
    res = await send(url, { method: 'GET' }, options);
  } catch (err) {
    throw new TetherError('UPDATE_SERVICE_UNREACHABLE', `${url.origin}: ${networkReason(err)}.`, { detail: { url: url.href }, cause: err });
  }
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    res.resume();
    if (status === 404 || status === 410) throw new TetherError('UPDATE_IMAGE_MISSING', `${url.href} is not in the store (HTTP ${status}).`, { detail: { url: url.href, status } });
    if (status === 401 || status === 403) throw new TetherError('UPDATE_ANONYMOUS_DENIED', `${url.href} refused the anonymous download (HTTP ${status}).`, { detail: { url: url.href, status } });
    throw new TetherError('UPDATE_SERVICE_ERROR', `${url.href} answered HTTP ${status}.`, { detail: { url: url.href, status } });
  }
  const declared = res.headers['content-length'];
  if (declared !== undefined && Number(declared) !== expected.size) {
    res.destroy();
    throw new TetherError('UPDATE_IMAGE_SIZE_MISMATCH', `${url.href} is ${declared} bytes; the service said ${expected.size}.`, {
      detail: { url: url.href, expected: expected.size, declared: Number(declared) },
    });
  }

  await mkdir(dirname(finalPath), { recursive: true });
  const partPath = `${finalPath}.part-${randomBytes(6).toString('hex')}`;
  let file;
  try {
    file = await open(partPath, 'wx');
  } catch (err) {
    res.destroy();
    throw new TetherError('UPDATE_CACHE_FAILED', `Cannot write ${partPath}: ${(err as Error).message}`, { cause: err });
  }
  const hash = createHash('sha256');
  let received = 0;
  let ok = false;
  try {
    try {
      for await (const chunk of res) {
        const bytes = chunk as Buffer;
        received += bytes.length;
        if (received > expected.size) {
          throw new TetherError('UPDATE_IMAGE_SIZE_MISMATCH', `${url.href} sent more than the ${expected.size} bytes the service announced.`, {
            detail: { url: url.href, expected: expected.size, received },
          });
        }
        hash.update(bytes);
        await file.write(bytes);
      }
    } catch (err) {
      if (err instanceof TetherError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT') {
        throw new TetherError('UPDATE_CACHE_FAILED', `Writing the image failed: ${(err as Error).message}`, { cause: err });
      }
      throw new TetherError('UPDATE_IMAGE_SIZE_MISMATCH', `${url.href} was cut short after ${received} of ${expected.size} bytes (${networkReason(err)}).`, {
        detail: { url: url.href, expected: expected.size, received },
        cause: err,
      });
    } finally {
      if (!res.complete) res.destroy();
    }
    if (received !== expected.size) {
      throw new TetherError('UPDATE_IMAGE_SIZE_MISMATCH', `${url.href} ended after ${received} of ${expected.size} bytes.`, {
        detail: { url: url.href, expected: expected.size, received },
      });
    }
    const actual = hash.digest('hex');
    if (actual !== expected.sha256.toLowerCase()) {
      throw new TetherError('UPDATE_IMAGE_HASH_MISMATCH', `${url.href} has SHA-256 ${actual}, not ${expected.sha256.toLowerCase()}.`, {
        detail: { url: url.href, expected: expected.sha256.toLowerCase(), actual },
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
