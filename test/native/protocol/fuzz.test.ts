import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { OPERATION_NAMES, EVENT_NAMES } from '../../../native/protocol';
import { decodeBody, encodeBody, type Codec } from '../../../native/protocol/codec';
import { Channel, FRAME_HEADER_SIZE, FrameFlag, FrameType, decodeFrame, encodeFrame, sealCrc } from '../../../native/protocol/frame';
import {
  EVENT_SCHEMAS,
  OPERATION_SCHEMAS,
  errorReplyCodec,
  helloCodec,
  keyCodec,
  resetCodec,
  welcomeCodec,
} from '../../../native/protocol/message-schemas';
import { connect, IDENTITY, SAMPLES, STATUS } from './fixtures';
import { SWEEP_TIMEOUT_MS } from '../../support/hang-guard';

/** A small deterministic PRNG (xorshift32), so a failure reproduces from its seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    next,
    int: (n: number) => next() % n,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}

const TYPES = Object.values(FrameType);

/** Mutations a hostile or broken peer could produce, with or without a CRC fixed up afterwards. */
function mutate(r: ReturnType<typeof rng>, valid: Uint8Array): Uint8Array {
  const b = new Uint8Array(valid);
  switch (r.int(9)) {
    case 0: // flip random bits
      for (let i = r.int(4) + 1; i > 0; i--) b[r.int(b.length)]! ^= 1 << r.int(8);
      break;
    case 1: // truncate
      return b.subarray(0, r.int(b.length));
    case 2: {
      // extend with junk
      const x = new Uint8Array(b.length + r.int(64) + 1);
      x.set(b);
      x.set(r.bytes(x.length - b.length), b.length);
      return x;
    }
    case 3: // random header byte, CRC fixed
      b[r.int(20)] = r.next() & 0xff;
      sealCrc(b);
      break;
    case 4: // type / flags / channel combinations, CRC fixed
      b[5] = r.int(3) === 0 ? r.next() & 0xff : TYPES[r.int(TYPES.length)]!;
      b[6] = r.int(8);
      b[7] = r.int(3);
      sealCrc(b);
      break;
    case 5: // length field lies, CRC fixed
      new DataView(b.buffer).setUint32(16, r.int(3) === 0 ? r.next() : Math.max(0, b.length - FRAME_HEADER_SIZE + r.int(5) - 2), true);
      sealCrc(b);
      break;
    case 6: // payload byte changed, CRC fixed (decodes; only the seal would catch it)
      if (b.length > FRAME_HEADER_SIZE) b[FRAME_HEADER_SIZE + r.int(b.length - FRAME_HEADER_SIZE)]! ^= 0xff;
      sealCrc(b);
      break;
    case 7: // magic / version
      b[r.int(5)] = r.next() & 0xff;
      break;
    default: // the CRC itself
      b[20 + r.int(4)]! ^= 1 << r.int(8);
  }
  return b;
}

function validFrame(r: ReturnType<typeof rng>): Uint8Array {
  const type = TYPES[r.int(TYPES.length)]!;
  const channel = type === FrameType.DATA && r.int(2) === 0 ? Channel.BULK : Channel.CONTROL;
  let flags = 0;
  if (type === FrameType.DATA && channel === Channel.CONTROL && r.int(2) === 0) flags |= FrameFlag.MORE;
  if ((type === FrameType.DATA || type === FrameType.ACK) && r.int(2) === 0) flags |= FrameFlag.ACK_REQUEST;
  return encodeFrame({ type, flags, channel, seq: r.next(), ack: r.next() }, r.bytes(r.int(300)));
}

describe('decoder fuzz', () => {
  it('100 000 random and mutated frames: no crash, no hang, every bad frame a typed PROTOCOL_ error', () => {
    const r = rng(0x7e7e7e7e);
    const counts = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const mode = r.int(4);
      const input = mode === 0 ? r.bytes(r.int(200)) : mutate(r, validFrame(r));
      let outcome: string;
      try {
        const f = decodeFrame(input, 256);
        // Whatever decodes must be exactly what encoding its fields gives back (no lenient parse).
        const again = encodeFrame({ type: f.type, flags: f.flags, channel: f.channel, seq: f.seq, ack: f.ack }, f.payload);
        if (Buffer.compare(again, input) !== 0) throw new Error(`frame ${i} decoded leniently`);
        outcome = 'ok';
      } catch (err) {
        // Plain checks in the loop (expect() per iteration would dominate the run time).
        if (!(err instanceof TetherError) || !err.code.startsWith('PROTOCOL_') || err.stage !== null) throw err;
        outcome = err.code;
      }
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }
    // Every check of §2.4 was reached many times.
    for (const c of [
      'PROTOCOL_FRAME_TRUNCATED',
      'PROTOCOL_BAD_MAGIC',
      'PROTOCOL_BAD_VERSION',
      'PROTOCOL_LENGTH_MISMATCH',
      'PROTOCOL_OVERSIZE',
      'PROTOCOL_BAD_CRC',
      'PROTOCOL_BAD_TYPE',
      'PROTOCOL_BAD_CHANNEL',
      'PROTOCOL_BAD_FLAGS',
      'ok',
    ]) {
      expect(counts.get(c) ?? 0, c).toBeGreaterThan(100);
    }
    // The decode rate is a figure of `npm run bench` (decode), not a limit here.
  }, SWEEP_TIMEOUT_MS);

  it('message bodies: 40 000 random and mutated encodings decode to a canonical value or PROTOCOL_BAD_MESSAGE', () => {
    const codecs: Array<[string, Codec<unknown>, unknown]> = [];
    for (const op of OPERATION_NAMES) {
      codecs.push([`${op}.request`, OPERATION_SCHEMAS[op].request as Codec<unknown>, SAMPLES[op].request]);
      codecs.push([`${op}.reply`, OPERATION_SCHEMAS[op].reply as Codec<unknown>, SAMPLES[op].reply]);
    }
    const events: Record<string, unknown> = { status: STATUS, registration: STATUS.registration, display: { text: 'hi' } };
    for (const e of EVENT_NAMES) codecs.push([`event.${e}`, EVENT_SCHEMAS[e] as Codec<unknown>, events[e]]);
    codecs.push(['error', errorReplyCodec as Codec<unknown>, { code: 'DEVICE_INTERNAL', message: 'x' }]);
    codecs.push(['reset', resetCodec as Codec<unknown>, { code: 'PROTOCOL_BAD_CRC' }]);
    codecs.push(['key', keyCodec as Codec<unknown>, { publicKey: new Uint8Array(32), nonce: new Uint8Array(32) }]);
    codecs.push([
      'hello',
      helloCodec as Codec<unknown>,
      { versions: [1], maxPayload: 65536, window: 32, heartbeatMs: 2000, features: ['events'], commitment: new Uint8Array(32) },
    ]);
    codecs.push([
      'welcome',
      welcomeCodec as Codec<unknown>,
      { version: 1, maxPayload: 65536, window: 32, features: [], identity: IDENTITY, publicKey: new Uint8Array(32), nonce: new Uint8Array(32) },
    ]);
    for (const [name, codec, sample] of codecs) expect(decodeBody(codec, encodeBody(codec, sample)), name).toEqual(sample);
    const r = rng(12345);
    let valid = 0;
    let invalid = 0;
    for (let i = 0; i < 40_000; i++) {
      const [name, codec, sample] = codecs[r.int(codecs.length)]!;
      const good = encodeBody(codec, sample);
      let input: Uint8Array;
      const m = r.int(4);
      if (m === 0) input = r.bytes(r.int(80));
      else if (m === 1) input = good.subarray(0, r.int(good.length));
      else {
        input = new Uint8Array(good);
        for (let k = r.int(3) + 1; k > 0 && input.length > 0; k--) input[r.int(input.length)] = r.next() & 0xff;
      }
      try {
        const value = decodeBody(codec, input);
        // A value that decodes is canonical: it re-encodes to the same bytes.
        if (Buffer.compare(encodeBody(codec, value), input) !== 0) throw new Error(`${name}: non-canonical decode at ${i}`);
        valid++;
      } catch (err) {
        if (!(err instanceof TetherError) || err.code !== 'PROTOCOL_BAD_MESSAGE') throw err;
        invalid++;
      }
    }
    expect(valid).toBeGreaterThan(1000);
    expect(invalid).toBeGreaterThan(1000);
  });

  it('live sessions fed 300 mutated frames (both directions) reset with a typed error every time', async () => {
    const r = rng(99);
    const seen = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      // Even runs damage a host→phone frame (the request), odd runs a phone→host frame (the reply).
      const direction = i % 2 === 0 ? 'a→b' : 'b→a';
      let armed = false;
      const { host, device } = await connect({}, {}, {
        transform: (d, f) => (armed && d === direction ? ((armed = false), [mutate(r, f)]) : [f]),
      });
      const victim = direction === 'a→b' ? device : host;
      const other = direction === 'a→b' ? host : device;
      armed = true;
      const call = host.call('status', {});
      const outcome = call.then(
        () => 'answered' as const,
        () => 'failed' as const,
      );
      const first = await Promise.race([victim.closed.then(() => 'closed' as const), outcome]);
      if (first === 'answered') {
        // The mutation happened to leave the frame intact (e.g. a flip undone): the call must have worked.
        expect(await call).toEqual(STATUS);
        await host.close();
        seen.set('intact', (seen.get('intact') ?? 0) + 1);
        continue;
      }
      const end = await victim.closed;
      expect(end).toBeInstanceOf(TetherError);
      expect(end!.code.startsWith('PROTOCOL_')).toBe(true);
      expect(await other.closed).toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: end!.code } });
      await expect(call).rejects.toBeInstanceOf(TetherError);
      seen.set(end!.code, (seen.get(end!.code) ?? 0) + 1);
    }
    expect(seen.get('PROTOCOL_DECRYPT_FAILED') ?? 0).toBeGreaterThan(10);
    expect(seen.get('PROTOCOL_BAD_CRC') ?? 0).toBeGreaterThan(10);
    expect(seen.get('intact') ?? 0).toBeLessThan(30);
  });
});
