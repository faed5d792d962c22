import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../native/protocol/crc32c';
import {
  Channel,
  FRAME_HEADER_SIZE,
  FrameFlag,
  FrameType,
  decodeFrame,
  encodeFrame,
  sealCrc,
} from '../../../native/protocol/frame';
import { thrownCode as code } from '../../support/failure';

/** Bit-at-a-time CRC-32C, the definition the table-driven one must match. */
function crcReference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the standard check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xFF, and an incrementing pattern.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });

  it('equals the bitwise definition at any length, alignment and split point', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(7), fc.nat(), (bytes, shift, cut) => {
        // Place the data at every byte alignment (the fast path reads aligned 32-bit words).
        const host = new Uint8Array(bytes.length + 8);
        host.set(bytes, shift);
        const view = host.subarray(shift, shift + bytes.length);
        const at = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        const expected = crcReference(bytes);
        expect(crc32c(view)).toBe(expected);
        expect(crc32c(view.subarray(at), crc32c(view.subarray(0, at)))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});

const frameArb = fc
  .record({
    type: fc.constantFrom(...Object.values(FrameType)),
    bulk: fc.boolean(),
    more: fc.boolean(),
    ackRequest: fc.boolean(),
    seq: fc.nat({ max: 0xffffffff }),
    ack: fc.nat({ max: 0xffffffff }),
    payload: fc.uint8Array({ maxLength: 2048 }),
  })
  .map(({ type, bulk, more, ackRequest, seq, ack, payload }) => {
    const channel = type === FrameType.DATA && bulk ? Channel.BULK : Channel.CONTROL;
    let flags = 0;
    if (type === FrameType.DATA && channel === Channel.CONTROL && more) flags |= FrameFlag.MORE;
    if ((type === FrameType.DATA || type === FrameType.ACK) && ackRequest) flags |= FrameFlag.ACK_REQUEST;
    return { type, channel, flags, seq, ack, payload };
  });

describe('frame codec', () => {
  it('round-trips every valid frame (property)', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        const raw = encodeFrame(f, f.payload);
        expect(raw.length).toBe(FRAME_HEADER_SIZE + f.payload.length);
        const d = decodeFrame(raw, 4096);
        expect({ type: d.type, channel: d.channel, flags: d.flags, seq: d.seq, ack: d.ack }).toEqual({
          type: f.type,
          channel: f.channel,
          flags: f.flags,
          seq: f.seq,
          ack: f.ack,
        });
        expect(Buffer.compare(d.payload, f.payload)).toBe(0);
        // Decoding does not copy: the payload is a view of the transfer.
        expect(d.payload.buffer).toBe(raw.buffer);
      }),
      { numRuns: 2000 },
    );
  });

  it('lays the header out byte by byte as the spec says', () => {
    const raw = encodeFrame({ type: FrameType.DATA, flags: 0x03, channel: 0, seq: 0x01020304, ack: 0x0a0b0c0d }, Uint8Array.of(0xee, 0xff));
    expect(Buffer.from(raw.subarray(0, 20)).toString('hex')).toBe('5445544801' + '10' + '03' + '00' + '04030201' + '0d0c0b0a' + '02000000');
    // DATA is sealed: its CRC covers the header only (§2.5), the AES-GCM tag covers the payload.
    expect(new DataView(raw.buffer).getUint32(20, true)).toBe(crc32c(raw.subarray(0, 20)));
    // An unsealed frame (handshake, RESET): header, then payload.
    const hello = encodeFrame({ type: FrameType.HELLO, flags: 0, channel: 0, seq: 0, ack: 0 }, Uint8Array.of(0xee, 0xff));
    expect(new DataView(hello.buffer).getUint32(20, true)).toBe(crc32c(hello.subarray(FRAME_HEADER_SIZE), crc32c(hello.subarray(0, 20))));
  });

  it('fails closed with the right code for each kind of damage', () => {
    const good = encodeFrame({ type: FrameType.DATA, flags: 0, channel: 0, seq: 1, ack: 0 }, new Uint8Array(100));
    const mutate = (fn: (b: Uint8Array) => void, fixCrc = true): Uint8Array => {
      const b = new Uint8Array(good);
      fn(b);
      if (fixCrc) sealCrc(b);
      return b;
    };
    expect(code(() => decodeFrame(good.subarray(0, 23), 4096))).toBe('PROTOCOL_FRAME_TRUNCATED');
    expect(code(() => decodeFrame(mutate((b) => (b[0] = 0)), 4096))).toBe('PROTOCOL_BAD_MAGIC');
    expect(code(() => decodeFrame(mutate((b) => (b[4] = 2)), 4096))).toBe('PROTOCOL_BAD_VERSION');
    expect(code(() => decodeFrame(good.subarray(0, 110), 4096))).toBe('PROTOCOL_LENGTH_MISMATCH');
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(code(() => decodeFrame(longer, 4096))).toBe('PROTOCOL_LENGTH_MISMATCH');
    expect(code(() => decodeFrame(good, 99))).toBe('PROTOCOL_OVERSIZE');
    expect(code(() => decodeFrame(mutate((b) => (b[20]! ^= 1), false), 4096))).toBe('PROTOCOL_BAD_CRC');
    expect(code(() => decodeFrame(mutate((b) => (b[13]! ^= 1), false), 4096))).toBe('PROTOCOL_BAD_CRC');
    // A sealed type's payload is not under the CRC: its AES-GCM tag catches the damage (PROTOCOL_DECRYPT_FAILED).
    expect(code(() => decodeFrame(mutate((b) => (b[50]! ^= 1), false), 4096))).toBe('ok');
    const hello = encodeFrame({ type: FrameType.HELLO, flags: 0, channel: 0, seq: 0, ack: 0 }, new Uint8Array(100));
    hello[50]! ^= 1;
    expect(code(() => decodeFrame(hello, 4096))).toBe('PROTOCOL_BAD_CRC');
    expect(code(() => decodeFrame(mutate((b) => (b[5] = 0x42)), 4096))).toBe('PROTOCOL_BAD_TYPE');
    expect(code(() => decodeFrame(mutate((b) => (b[7] = 2)), 4096))).toBe('PROTOCOL_BAD_CHANNEL');
    expect(code(() => decodeFrame(mutate((b) => ((b[5] = FrameType.PING), (b[7] = 1))), 4096))).toBe('PROTOCOL_BAD_CHANNEL');
    expect(code(() => decodeFrame(mutate((b) => (b[6] = 0x04)), 4096))).toBe('PROTOCOL_BAD_FLAGS');
    expect(code(() => decodeFrame(mutate((b) => ((b[6] = FrameFlag.MORE), (b[7] = 1))), 4096))).toBe('PROTOCOL_BAD_FLAGS');
    expect(code(() => decodeFrame(mutate((b) => ((b[5] = FrameType.PING), (b[6] = FrameFlag.ACK_REQUEST))), 4096))).toBe('PROTOCOL_BAD_FLAGS');
    expect(code(() => decodeFrame(good, 4096))).toBe('ok');
  });
});

describe('spec', () => {
  it('docs/tether-protocol.md prints every message schema verbatim', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../../docs/tether-protocol.md', import.meta.url), 'utf8');
    const schemas = await import('../../../native/protocol/message-schemas');
    const codecs = [
      schemas.identityCodec,
      schemas.statusCodec,
      schemas.registrationCodec,
      schemas.errorReplyCodec,
      schemas.helloCodec,
      schemas.welcomeCodec,
      schemas.keyCodec,
      schemas.pairCodec,
      schemas.pairAnswerCodec,
      schemas.resetCodec,
      ...Object.values(schemas.OPERATION_SCHEMAS).flatMap((s) => [s.request, s.reply]),
      ...Object.values(schemas.EVENT_SCHEMAS),
    ];
    for (const c of codecs) expect(doc, c.describe).toContain(c.describe);
  });
});
