/**
 * The frame codec (docs/tether-protocol.md §2). One USB transfer carries exactly one frame:
 *
 *   0  magic "TETH"   4  version   5  type   6  flags   7  channel
 *   8  seq (u32 LE)   12 ack (u32 LE)   16 length (u32 LE)   20 crc32c (u32 LE)   24 payload
 *
 * The CRC covers bytes 0–19, and then the payload of an unsealed frame (handshake, RESET); a sealed
 * frame's payload is authenticated by its AES-GCM tag instead (§2.5). decodeFrame fails closed: every check that does
 * not hold throws a TetherError with a PROTOCOL_* code, and nothing is returned half-checked.
 */
import { TetherError } from '../../common/errors';
import { crc32c } from './crc32c';

export const FRAME_MAGIC = Uint8Array.of(0x54, 0x45, 0x54, 0x48); // "TETH"
export const FRAME_VERSION = 1;
export const FRAME_HEADER_SIZE = 24;
/** Bytes of the header the CRC and the AEAD's associated data cover (everything but the CRC). */
export const FRAME_AAD_SIZE = 20;

/** Frame types (§3). */
export const FrameType = {
  HELLO: 0x01,
  WELCOME: 0x02,
  KEY: 0x03,
  READY: 0x04,
  CONFIRM: 0x05,
  /** Host → phone, first frame after READY when both announced `known-host` (§5.7). */
  PAIR: 0x06,
  /** Phone → host, the answer to PAIR (§5.7). */
  PAIR_ANSWER: 0x07,
  DATA: 0x10,
  ACK: 0x11,
  PING: 0x12,
  PONG: 0x13,
  RESET: 0x7f,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Flag bits (§2.2). */
export const FrameFlag = {
  /** DATA on the control channel: the message continues in the next control DATA frame. */
  MORE: 0x01,
  /** DATA or ACK: acknowledge as soon as every DATA frame up to this one has been consumed. */
  ACK_REQUEST: 0x02,
} as const;

/** Channels (§2.3). */
export const Channel = {
  CONTROL: 0,
  BULK: 1,
} as const;
export type Channel = (typeof Channel)[keyof typeof Channel];

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(FrameType));

/**
 * Types whose payload is sealed (AES-256-GCM, §5.4). Their CRC covers the header only (§2.5): the
 * tag already authenticates every payload byte, and a second pass over the payload on each side
 * was a third of the codec's CPU.
 */
export const SEALED_TYPES: ReadonlySet<number> = new Set([
  FrameType.READY,
  FrameType.CONFIRM,
  FrameType.PAIR,
  FrameType.PAIR_ANSWER,
  FrameType.DATA,
  FrameType.ACK,
  FrameType.PING,
  FrameType.PONG,
]);

/** The CRC of a frame as §2.5 defines it (header bytes 0–19, then the payload unless the type is sealed). */
function frameCrc(frame: Uint8Array): number {
  const header = crc32c(frame.subarray(0, FRAME_AAD_SIZE));
  return SEALED_TYPES.has(frame[5]!) ? header : crc32c(frame.subarray(FRAME_HEADER_SIZE), header);
}

/** Flags allowed per type; any other bit set is a violation. */
function allowedFlags(type: number, channel: number): number {
  if (type === FrameType.DATA) return channel === Channel.CONTROL ? FrameFlag.MORE | FrameFlag.ACK_REQUEST : FrameFlag.ACK_REQUEST;
  if (type === FrameType.ACK) return FrameFlag.ACK_REQUEST;
  return 0;
}

export interface Frame {
  readonly type: FrameType;
  readonly flags: number;
  readonly channel: Channel;
  readonly seq: number;
  readonly ack: number;
  /** A view into the received transfer (no copy). */
  readonly payload: Uint8Array;
  /** The whole transfer (header + payload), for the AEAD's associated data. */
  readonly raw: Uint8Array;
}

export interface FrameHeaderFields {
  readonly type: FrameType;
  readonly flags: number;
  readonly channel: Channel;
  readonly seq: number;
  readonly ack: number;
  /** Payload length in bytes. */
  readonly length: number;
}

/** Writes bytes 0–19 of a header into `into` (the CRC is filled in by sealCrc). */
export function writeHeader(into: Uint8Array, h: FrameHeaderFields): void {
  into.set(FRAME_MAGIC, 0);
  into[4] = FRAME_VERSION;
  into[5] = h.type;
  into[6] = h.flags;
  into[7] = h.channel;
  const v = new DataView(into.buffer, into.byteOffset, FRAME_HEADER_SIZE);
  v.setUint32(8, h.seq >>> 0, true);
  v.setUint32(12, h.ack >>> 0, true);
  v.setUint32(16, h.length >>> 0, true);
}

/** Computes the CRC of a complete frame (header + payload already in place) into bytes 20–23. */
export function sealCrc(frame: Uint8Array): void {
  const crc = frameCrc(frame);
  new DataView(frame.buffer, frame.byteOffset + FRAME_AAD_SIZE, 4).setUint32(0, crc, true);
}

/** Encodes a frame with a plaintext payload (handshake frames, RESET, tests). */
export function encodeFrame(h: Omit<FrameHeaderFields, 'length'>, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
  writeHeader(frame, { ...h, length: payload.length });
  frame.set(payload, FRAME_HEADER_SIZE);
  sealCrc(frame);
  return frame;
}

function violation(code: ConstructorParameters<typeof TetherError>[0], detail: Record<string, number>): TetherError {
  return new TetherError(code, undefined, { detail });
}

/**
 * Decodes and checks one transfer. `maxPayload` is the negotiated limit (or the handshake limit
 * before negotiation). Checks, in order: size ≥ header, magic, version, length field = transfer
 * length − header, length ≤ maxPayload, CRC, type, channel, flags.
 */
export function decodeFrame(bytes: Uint8Array, maxPayload: number): Frame {
  if (bytes.length < FRAME_HEADER_SIZE) throw violation('PROTOCOL_FRAME_TRUNCATED', { length: bytes.length });
  if (bytes[0] !== FRAME_MAGIC[0] || bytes[1] !== FRAME_MAGIC[1] || bytes[2] !== FRAME_MAGIC[2] || bytes[3] !== FRAME_MAGIC[3]) {
    throw violation('PROTOCOL_BAD_MAGIC', {});
  }
  if (bytes[4] !== FRAME_VERSION) throw violation('PROTOCOL_BAD_VERSION', { version: bytes[4]! });
  const v = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_SIZE);
  const length = v.getUint32(16, true);
  if (length !== bytes.length - FRAME_HEADER_SIZE) {
    throw violation('PROTOCOL_LENGTH_MISMATCH', { declared: length, received: bytes.length - FRAME_HEADER_SIZE });
  }
  if (length > maxPayload) throw violation('PROTOCOL_OVERSIZE', { length, maxPayload });
  const payload = bytes.subarray(FRAME_HEADER_SIZE);
  if (frameCrc(bytes) !== v.getUint32(20, true)) throw violation('PROTOCOL_BAD_CRC', {});
  const type = bytes[5]!;
  const flags = bytes[6]!;
  const channel = bytes[7]!;
  if (!KNOWN_TYPES.has(type)) throw violation('PROTOCOL_BAD_TYPE', { type });
  if (channel !== Channel.CONTROL && !(type === FrameType.DATA && channel === Channel.BULK)) {
    throw violation('PROTOCOL_BAD_CHANNEL', { type, channel });
  }
  if ((flags & ~allowedFlags(type, channel)) !== 0) throw violation('PROTOCOL_BAD_FLAGS', { type, flags });
  return {
    type: type as FrameType,
    flags,
    channel: channel as Channel,
    seq: v.getUint32(8, true),
    ack: v.getUint32(12, true),
    payload,
    raw: bytes,
  };
}
