import { describe, expect, it } from 'vitest';
import { manualTimers, memoryLinkPair, openDeviceSession, openHostSession } from '../../../native/protocol';
import { encodeBody, struct, u8 } from '../../../native/protocol/codec';
import { FrameType, decodeFrame, encodeFrame } from '../../../native/protocol/frame';
import { sealFrame, type DirectionKeys } from '../../../native/protocol/handshake';
import { OPERATION_SCHEMAS } from '../../../native/protocol/message-schemas';
import { OPERATION_CODES } from '../../../native/protocol/messages';
import { CORE, SessionCore } from '../../../native/protocol/session';
import { connect, IDENTITY, sampleHandlers, settle, STATUS } from './fixtures';

function coreOf(session: object): SessionCore {
  return (session as { [CORE]: SessionCore })[CORE];
}

function keysOf(core: SessionCore): DirectionKeys[] {
  return [Reflect.get(core, 'sendKeys') as DirectionKeys, Reflect.get(core, 'recvKeys') as DirectionKeys];
}

describe('handshake frames are checked in full', () => {
  it('an unsealed handshake frame with a non-zero ack is PROTOCOL_BAD_ACK', async () => {
    const [a, b] = memoryLinkPair({
      transform: (_d, f) => {
        if (f[5] !== FrameType.HELLO) return [f];
        const h = decodeFrame(f, 1 << 20);
        return [encodeFrame({ type: h.type, flags: 0, channel: 0, seq: h.seq, ack: 3 }, h.payload)];
      },
    });
    const phone = openDeviceSession(b, { identity: IDENTITY, handlers: {} });
    const host = openHostSession(a);
    await expect(phone).rejects.toMatchObject({ code: 'PROTOCOL_BAD_ACK' });
    await expect(host).rejects.toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_BAD_ACK' } });
  });

  it('a READY whose sealed payload is not empty is PROTOCOL_BAD_MESSAGE', async () => {
    const phoneRef: { core?: SessionCore } = {};
    const [a, b] = memoryLinkPair({
      transform: (_d, f) => {
        if (f[5] !== FrameType.READY || phoneRef.core === undefined) return [f];
        // The phone's own keys seal a READY that carries a byte: authentic, but not empty.
        const [send] = keysOf(phoneRef.core);
        return [sealFrame(send!, { type: FrameType.READY, flags: 0, channel: 0, seq: 1, ack: 0 }, [Uint8Array.of(7)])];
      },
    });
    const phoneCore = new SessionCore('device', b, {}, { identity: IDENTITY, handlers: {} });
    phoneRef.core = phoneCore;
    const phone = phoneCore.open();
    const host = openHostSession(a);
    await expect(host).rejects.toMatchObject({ code: 'PROTOCOL_BAD_MESSAGE' });
    await phone.catch(() => undefined);
    expect(await phoneCore.closed).toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_BAD_MESSAGE' } });
  });
});

describe('a late reply to a timed-out call', () => {
  it('is still checked: a malformed one resets the session', async () => {
    const clock = manualTimers();
    const { host, device } = await connect(
      { timers: clock, handlers: { ...sampleHandlers(), logs: () => new Promise(() => undefined) } },
      { timers: clock, heartbeatIntervalMs: 60_000 },
    );
    const call = host.call('logs', { maxBytes: 10 }, { timeoutMs: 5000 });
    await settle();
    clock.advance(5000);
    await expect(call).rejects.toMatchObject({ code: 'PROTOCOL_CALL_TIMEOUT' });
    const core = coreOf(device);
    const send = Reflect.get(core, 'sendControl') as (message: Uint8Array, secret: boolean) => Promise<void>;
    // kind 2 (reply), the logs code, tag 1, then a body the logs reply schema refuses.
    await send.call(core, Uint8Array.of(2, OPERATION_CODES.logs, 1, 0, 0, 0, 9, 9, 9), false);
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_BAD_MESSAGE' });
  });

  it('is still checked: one naming another operation resets the session', async () => {
    const clock = manualTimers();
    const { host, device } = await connect(
      { timers: clock, handlers: { ...sampleHandlers(), logs: () => new Promise(() => undefined) } },
      { timers: clock, heartbeatIntervalMs: 60_000 },
    );
    const call = host.call('logs', { maxBytes: 10 }, { timeoutMs: 5000 });
    await settle();
    clock.advance(5000);
    await expect(call).rejects.toMatchObject({ code: 'PROTOCOL_CALL_TIMEOUT' });
    const core = coreOf(device);
    const encode = Reflect.get(core, 'encodeControl') as (kind: number, code: number, tag: number, codec: unknown, value: unknown) => Uint8Array;
    const send = Reflect.get(core, 'sendControl') as (message: Uint8Array, secret: boolean) => Promise<void>;
    await send.call(core, encode.call(core, 2, 0x01, 1, OPERATION_SCHEMAS.status.reply, STATUS), false);
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_BAD_MESSAGE' });
  });
});

describe('session keys', () => {
  it('are zeroed on both sides once the session ends', async () => {
    const { host, device } = await connect();
    const hostKeys = keysOf(coreOf(host));
    const phoneKeys = keysOf(coreOf(device));
    for (const k of [...hostKeys, ...phoneKeys]) expect(k.key.some((b) => b !== 0)).toBe(true);
    await host.close();
    await device.closed;
    for (const k of [...hostKeys, ...phoneKeys]) {
      expect(k.key.every((b) => b === 0)).toBe(true);
      expect(k.iv.every((b) => b === 0)).toBe(true);
    }
  });
});

describe('the phone leaves no decrypted credential bytes behind', () => {
  // Long names push the request past one 1024-byte frame; the password is a run of 'p' found nowhere else.
  for (const [name, maxPayload, filler] of [
    ['in one frame', 65536, 20],
    ['split over several frames', 1024, 255],
  ] as const) {
    it(name, async () => {
      const { host, device } = await connect({ maxPayload }, { maxPayload });
      const core = coreOf(device);
      const seen: Uint8Array[] = [];
      const onFragment = Reflect.get(core, 'onControlFragment') as (plain: Uint8Array, more: boolean) => void;
      Reflect.set(core, 'onControlFragment', (plain: Uint8Array, more: boolean) => {
        seen.push(plain);
        onFragment.call(core, plain, more);
      });
      await host.confirmPairing();
      const request = { kind: 'ntlm', domain: 'D'.repeat(filler), user: 'u'.repeat(filler + 1), sipUri: `sip:${'a'.repeat(filler - 15)}@contoso.com`, password: 'p'.repeat(256) } as const;
      await expect(host.call('credentials', request)).resolves.toEqual({ accepted: true });
      const secret = Buffer.from('p'.repeat(12));
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.length > 1).toBe(maxPayload === 1024);
      for (const plain of seen) expect(Buffer.from(plain).includes(secret)).toBe(false);
      await host.close();
    });
  }
});

describe('the struct encoder', () => {
  it('refuses a field the schema does not have, even one named like an Object.prototype member', () => {
    const codec = struct({ a: u8() });
    for (const extra of ['constructor', 'toString', 'b']) {
      expect(() => encodeBody(codec, { a: 1, [extra]: 2 } as never)).toThrow(expect.objectContaining({ code: 'PROTOCOL_BAD_MESSAGE' }));
    }
    expect(encodeBody(codec, { a: 1 })).toEqual(Uint8Array.of(1));
  });
});

describe('call timeouts', () => {
  it('a timeout Node cannot honour (Infinity, NaN, 0, beyond 2^31−1 ms) is refused up front; the session stays up', async () => {
    const { host } = await connect();
    for (const timeoutMs of [Infinity, Number.NaN, 0, -5, 2 ** 31, 1.5]) {
      await expect(host.call('status', {}, { timeoutMs })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    }
    await expect(host.call('status', {}, { timeoutMs: 2 ** 31 - 1 })).resolves.toEqual(STATUS);
    expect(host.state).toBe('open');
    await host.close();
  });
});
