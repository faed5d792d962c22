import { TetherError } from '../../common/errors';
import { SipStreamDecoder } from '../../common/pool/sip';
import { Channel, FrameType, decodeFrame, encodeFrame } from '../../native/protocol/frame';

/** xorshift32: the same inputs on every run, so two runs measure the same work. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

export interface FrameDecodeResult {
  readonly frames: number;
  readonly bytes: number;
  readonly seconds: number;
}

/**
 * Decode rate of the tether frame decoder over `count` frames, every other one with a bit flipped
 * (so the rejection path is measured as well as the accepting one). The figure that used to be a
 * time limit in test/native/protocol/fuzz.test.ts.
 */
export function measureFrameDecode(count: number): FrameDecodeResult {
  const next = rng(0x7e7e7e7e);
  const inputs: Uint8Array[] = [];
  for (let i = 0; i < 1024; i++) {
    const payload = Uint8Array.from({ length: next() % 300 }, () => next() & 0xff);
    const frame = encodeFrame({ type: FrameType.DATA, flags: 0, channel: Channel.CONTROL, seq: next(), ack: next() }, payload);
    if (i % 2 === 1) frame[next() % frame.length]! ^= 1 << (next() % 8);
    inputs.push(frame);
  }
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const input = inputs[i % inputs.length]!;
    bytes += input.byteLength;
    try {
      decodeFrame(input, 256);
    } catch (err) {
      if (!(err instanceof TetherError)) throw err;
    }
  }
  return { frames: count, bytes, seconds: (performance.now() - t0) / 1000 };
}

export interface SipTrickleResult {
  readonly bytes: number;
  readonly seconds: number;
}

/** A SIP message of `bytes` (head and body) fed to the stream decoder one byte per push. */
export function measureSipTrickle(bodyBytes: number, headBytes: number): SipTrickleResult {
  const text = `SIP/2.0 200 OK\r\nX: ${'h'.repeat(Math.max(1, headBytes - 100))}\r\nContent-Length: ${bodyBytes}\r\n\r\n${'x'.repeat(bodyBytes)}`;
  const wire = new TextEncoder().encode(text);
  const decoder = new SipStreamDecoder();
  let messages = 0;
  const t0 = performance.now();
  for (let i = 0; i < wire.length; i++) messages += decoder.push(wire.subarray(i, i + 1)).length;
  const seconds = (performance.now() - t0) / 1000;
  if (messages !== 1) throw new TetherError('INTERNAL', `The SIP trickle bench decoded ${messages} messages, not 1.`);
  return { bytes: wire.length, seconds };
}
