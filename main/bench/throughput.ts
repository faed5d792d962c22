import { createHash } from 'node:crypto';
import { TAG_SIZE } from '../../native/protocol/handshake';
import { BULK_HEADER_SIZE } from '../../native/protocol/message-schemas';
import type { AttachedPhone } from '../device/attach';

export interface ThroughputResult {
  readonly bytes: number;
  readonly seconds: number;
  readonly bytesPerSecond: number;
}

/** A deterministic 1 MiB pattern (not all zeros, so nothing along the way can shortcut it). */
export function patternChunk(bytes = 1 << 20, seed = 1): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** SHA-256 of `total` bytes made of `chunk` repeated (the image the bench sends). */
export function repeatedSha256(chunk: Uint8Array, total: number): Uint8Array {
  const h = createHash('sha256');
  for (let at = 0; at < total; at += chunk.byteLength) h.update(chunk.subarray(0, Math.min(chunk.byteLength, total - at)));
  return new Uint8Array(h.digest());
}

/**
 * The stop-and-wait baseline: streams `bytes` of firmware data to an attached phone on the bulk
 * channel one frame at a time, waiting for the phone to acknowledge each frame before the next,
 * and times it from the first byte to the acknowledgement of the last. (The windowed figure comes
 * from the real firmware pusher.)
 */
export async function timeStopAndWait(phone: AttachedPhone, bytes: number, version: string): Promise<ThroughputResult> {
  const { session } = phone;
  const chunk = patternChunk();
  // One frame's worth per write, so each write is exactly one DATA frame.
  const step = Math.min(chunk.byteLength, session.negotiated.maxPayload - TAG_SIZE - BULK_HEADER_SIZE);
  const begin = await session.call('firmwareBegin', { size: bytes, version, sha256: repeatedSha256(chunk, bytes) });
  const writer = session.bulkWriter(begin.transferId);
  const t0 = performance.now();
  for (let offset = begin.have; offset < bytes; ) {
    const start = offset % chunk.byteLength;
    const n = Math.min(step, bytes - offset, chunk.byteLength - start);
    await writer.write(offset, chunk.subarray(start, start + n));
    offset += n;
    await writer.flush();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { bytes, seconds, bytesPerSecond: bytes / seconds };
}
