import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { TetherError } from '../../common/errors';

/**
 * A firmware image that can be read from any offset, so an interrupted push resumes where the
 * phone stopped. It is streamed, never held whole in memory.
 */
export interface FirmwareImage {
  readonly size: number;
  readonly version: string;
  readonly sha256: Uint8Array;
  /** The bytes from `offset` to the end, in chunks. Throws FIRMWARE_IMAGE_CHANGED if the source changed. */
  read(offset: number): AsyncIterable<Uint8Array>;
}

export interface ImageReadOptions {
  /** Bytes per read (default 1 MiB): bounds the memory a push uses. */
  readonly chunkBytes?: number;
  /** Hashing progress while the SHA-256 is computed. */
  readonly onHashProgress?: (done: number, total: number) => void;
}

async function* chunksOf(stream: Readable): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) yield chunk as Buffer;
}

async function sha256Of(open: () => Readable, size: number, onProgress?: (done: number, total: number) => void): Promise<Uint8Array> {
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of chunksOf(open())) {
    hash.update(chunk);
    done += chunk.byteLength;
    onProgress?.(done, size);
  }
  if (done !== size) throw new TetherError('FIRMWARE_IMAGE_CHANGED', undefined, { detail: { expected: size, read: done } });
  return new Uint8Array(hash.digest());
}

/** An image in a file: size from stat, SHA-256 by one streaming pass, reads by offset. */
export async function fileImage(path: string, version: string, options: ImageReadOptions = {}): Promise<FirmwareImage> {
  const highWaterMark = options.chunkBytes ?? 1 << 20;
  const unreadable = (err: unknown): TetherError =>
    err instanceof TetherError ? err : new TetherError('FIRMWARE_IMAGE_UNREADABLE', undefined, { detail: { path }, cause: err });
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw unreadable(err);
  }
  if (!info.isFile() || info.size === 0) throw new TetherError('FIRMWARE_IMAGE_UNREADABLE', 'The firmware image is empty or not a file.', { detail: { path } });
  const { size, mtimeMs } = info;
  const sha256 = await sha256Of(() => createReadStream(path, { highWaterMark }), size, options.onHashProgress).catch((e: unknown) => {
    throw unreadable(e);
  });
  return {
    size,
    version,
    sha256,
    async *read(offset: number) {
      const now = await stat(path).catch((e: unknown) => {
        throw unreadable(e);
      });
      if (now.size !== size || now.mtimeMs !== mtimeMs) {
        throw new TetherError('FIRMWARE_IMAGE_CHANGED', undefined, { detail: { path } });
      }
      if (offset >= size) return;
      try {
        yield* chunksOf(createReadStream(path, { start: offset, highWaterMark }));
      } catch (err) {
        throw unreadable(err);
      }
    },
  };
}

/**
 * An image produced by a function of the offset (a generator, an HTTP range request …). The
 * SHA-256 and size must be known up front (Device Update states them); `open` is called again
 * from the resume offset after an interruption.
 */
export function streamImage(info: { size: number; version: string; sha256: Uint8Array }, open: (offset: number) => AsyncIterable<Uint8Array>): FirmwareImage {
  return { ...info, read: open };
}
