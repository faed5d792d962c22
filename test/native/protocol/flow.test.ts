import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import {
  Channel,
  manualTimers,
  memoryLinkPair,
  openDeviceSession,
  openHostSession,
  type BulkChunk,
  type MemoryDirection,
} from '../../../native/protocol';
import { FRAME_HEADER_SIZE, FrameType, decodeFrame, encodeFrame, sealCrc } from '../../../native/protocol/frame';
import { CORE, type SessionCore } from '../../../native/protocol/session';
import { connect, countData, IDENTITY, sampleHandlers, settle, STATUS } from './fixtures';

function coreOf(session: object): SessionCore {
  return (session as { [CORE]: SessionCore })[CORE];
}

function countType(raw: readonly Uint8Array[], type: number): number {
  return raw.filter((f) => f[5] === type).length;
}

describe('heartbeat (fake clock)', () => {
  it('pings keep an answered session alive', async () => {
    const clock = manualTimers();
    const { host, device, hostFrames, deviceFrames } = await connect(
      { timers: clock },
      { timers: clock, heartbeatIntervalMs: 1000 },
    );
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      await settle();
    }
    expect(host.state).toBe('open');
    expect(device.state).toBe('open');
    expect(countType(hostFrames, FrameType.PING)).toBe(10);
    expect(countType(deviceFrames, FrameType.PONG)).toBe(10);
    await host.close();
  });

  it('the host resets when the phone stops answering (3 × interval)', async () => {
    const clock = manualTimers();
    let silence = false;
    const { host } = await connect(
      { timers: clock },
      { timers: clock, heartbeatIntervalMs: 1000 },
      { transform: (d: MemoryDirection, f) => (silence && d === 'b→a' ? [] : [f]) },
    );
    silence = true;
    for (let i = 0; i < 2; i++) {
      clock.advance(1000);
      await settle();
    }
    expect(host.state).toBe('open');
    clock.advance(1000);
    await settle();
    expect(host.state).toBe('closed');
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_HEARTBEAT_TIMEOUT' });
  });

  it('the phone resets when the host stops pinging', async () => {
    const clock = manualTimers();
    let silence = false;
    const { device } = await connect(
      { timers: clock },
      { timers: clock, heartbeatIntervalMs: 500 },
      { transform: (d: MemoryDirection, f) => (silence && d === 'a→b' ? [] : [f]) },
    );
    silence = true;
    clock.advance(1499);
    await settle();
    expect(device.state).toBe('open');
    clock.advance(1);
    await settle();
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_HEARTBEAT_TIMEOUT' });
  });

  it('a call times out on the fake clock; the late reply is ignored and the session stays up', async () => {
    const clock = manualTimers();
    let answer: (() => void) | undefined;
    const { host } = await connect(
      {
        timers: clock,
        handlers: {
          ...sampleHandlers(),
          logs: () => new Promise((resolve) => (answer = () => resolve({ text: 'late', truncated: false }))),
        },
      },
      { timers: clock, heartbeatIntervalMs: 60_000 },
    );
    const call = host.call('logs', { maxBytes: 10 }, { timeoutMs: 5000 });
    await settle();
    clock.advance(5000);
    await expect(call).rejects.toMatchObject({ code: 'PROTOCOL_CALL_TIMEOUT' });
    answer!();
    await settle();
    expect(host.state).toBe('open');
    await expect(host.call('status', {})).resolves.toEqual(STATUS);
    await host.close();
  });

  it('a handshake the phone never answers times out', async () => {
    const clock = manualTimers();
    const [a] = memoryLinkPair();
    const opening = openHostSession(a, { timers: clock, handshakeTimeoutMs: 3000 });
    await settle();
    clock.advance(3000);
    await expect(opening).rejects.toMatchObject({ code: 'PROTOCOL_HANDSHAKE_TIMEOUT' });
  });
});

describe('credit window', () => {
  it('the sender stops at the window and resumes on (delayed) acks; flush waits until all is consumed', async () => {
    const pending: Array<() => void> = [];
    const received: BulkChunk[] = [];
    let maxUnconsumed = 0;
    const onBulk = (chunk: BulkChunk) =>
      new Promise<void>((resolve) => {
        received.push({ ...chunk, data: new Uint8Array(chunk.data) });
        pending.push(resolve);
      });
    // Window 8 → the phone acks every ⌊8/4⌋ = 2 consumed frames.
    const { host, hostFrames } = await connect({ onBulk, window: 8, maxPayload: 1024 }, { maxPayload: 1024 });
    const bulkBefore = countData(hostFrames, Channel.BULK);
    const chunk = coreOf(host).bulkChunkSize;
    expect(chunk).toBe(1024 - 16 - 12);
    const image = new Uint8Array(20 * chunk).map((_, i) => i & 0xff);
    const w = host.bulkWriter(3);
    let written = false;
    const writing = w.write(0, image).then(() => (written = true));
    await settle();
    const sent = () => countData(hostFrames, Channel.BULK) - bulkBefore;
    expect(sent()).toBe(8);
    expect(written).toBe(false);

    let consumed = 0;
    // The phone stores chunks one at a time: release them one by one.
    const release = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const next = pending.shift();
        if (next === undefined) throw new Error(`nothing to release: the sender stalled at ${sent()}`);
        next();
        consumed++;
        await settle();
        maxUnconsumed = Math.max(maxUnconsumed, sent() - consumed);
      }
    };
    await release(1); // one consumed: below the ack threshold, the sender stays blocked
    expect(sent()).toBe(8);
    await release(1); // two consumed: an ACK frees two credits
    expect(sent()).toBe(10);
    while (!written) await release(2);
    expect(sent()).toBe(20);

    let flushed = false;
    const flushing = w.flush().then(() => (flushed = true));
    await settle();
    expect(flushed).toBe(false);
    while (consumed < 19) await release(1);
    expect(flushed).toBe(false); // one chunk still unconsumed
    await release(1);
    await flushing;
    await writing;
    expect(maxUnconsumed).toBe(8); // the window was used fully and never exceeded
    expect(received.map((c) => c.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i * chunk));
    expect(Buffer.compare(Buffer.concat(received.map((c) => c.data)), image)).toBe(0);
    await host.close();
  });

  it('control calls are not starved behind a full bulk window once acks flow', async () => {
    let release: (() => void) | undefined;
    const gate = new Promise<void>((r) => (release = r));
    const { host } = await connect({ onBulk: () => gate, window: 4, maxPayload: 1024 }, { maxPayload: 1024 });
    const w = host.bulkWriter(1);
    void w.write(0, new Uint8Array(20_000)).catch(() => undefined);
    const status = host.call('status', {});
    await settle();
    let done = false;
    void status.then(() => (done = true));
    await settle();
    expect(done).toBe(false); // window full: the request waits for credit
    release!();
    await expect(status).resolves.toEqual(STATUS);
    await host.close();
  });

  it('a peer that sends beyond the window is reset (PROTOCOL_WINDOW_EXCEEDED)', async () => {
    const gate = new Promise<void>(() => undefined);
    const { host, device } = await connect({ onBulk: () => gate, window: 4, maxPayload: 1024 }, { maxPayload: 1024 });
    Reflect.set(coreOf(host), 'sendWindow', 100); // a host that ignores the phone's window
    void host.bulkWriter(1).write(0, new Uint8Array(10_000)).catch(() => undefined);
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_WINDOW_EXCEEDED' });
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_PEER_RESET' });
  });

  it('an ack for data never sent is a violation (PROTOCOL_BAD_ACK)', async () => {
    const { host, device } = await connect();
    Reflect.set(coreOf(device), 'consumed', 1000);
    void device.emit('display', { text: 'x' });
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_BAD_ACK' });
  });
});

describe('reset and re-attach', () => {
  it('a violation resets both sides, fails pending calls, and a new session on a new link works', async () => {
    let inject = false;
    const { host, device, hostLink } = await connect(
      {
        handlers: { ...sampleHandlers(), logs: () => new Promise(() => undefined) },
      },
      {},
      {
        transform: (d: MemoryDirection, f) => {
          if (!inject || d !== 'a→b' || f[5] !== FrameType.DATA) return [f];
          inject = false;
          const bad = new Uint8Array(f);
          bad[0] = 0x58; // bad magic
          return [bad];
        },
      },
    );
    const hanging = host.call('logs', { maxBytes: 1 });
    await settle();
    inject = true;
    const next = host.call('status', {});
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_BAD_MAGIC', stage: null });
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_BAD_MAGIC' } });
    await expect(hanging).rejects.toMatchObject({ code: 'PROTOCOL_PEER_RESET' });
    await expect(next).rejects.toMatchObject({ code: 'PROTOCOL_PEER_RESET' });
    await expect(hostLink.send(new Uint8Array(24))).rejects.toMatchObject({ code: 'PROTOCOL_LINK_CLOSED' });

    const again = await connect();
    expect(again.host.identity).toEqual(IDENTITY);
    await expect(again.host.call('status', {})).resolves.toEqual(STATUS);
    await again.host.confirmPairing();
    await expect(again.host.call('wipe', { includeCertificate: false })).resolves.toEqual({});
    await again.host.close();
  });

  it('a frame not allowed in the open state (a HELLO) is PROTOCOL_UNEXPECTED_FRAME', async () => {
    let inject = false;
    const { host, device } = await connect({}, {}, {
      transform: (d: MemoryDirection, f) => {
        if (!inject || d !== 'a→b') return [f];
        inject = false;
        const seq = decodeFrame(f, 1 << 20).seq;
        return [encodeFrame({ type: FrameType.HELLO, flags: 0, channel: 0, seq, ack: 0 }, new Uint8Array(8))];
      },
    });
    inject = true;
    void host.call('status', {}).catch(() => undefined);
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_UNEXPECTED_FRAME' });
  });

  it.each([
    ['a corrupted header (CRC)', 12, 'PROTOCOL_BAD_CRC'],
    ['a corrupted sealed payload (AES-GCM tag; no payload CRC, §2.5)', FRAME_HEADER_SIZE, 'PROTOCOL_DECRYPT_FAILED'],
  ])('%s resets the session', async (_name, at, expected) => {
    let inject = false;
    const { host, device } = await connect({}, {}, {
      transform: (d: MemoryDirection, f) => {
        if (!inject || d !== 'a→b') return [f];
        inject = false;
        const bad = new Uint8Array(f);
        bad[at]! ^= 0x80;
        return [bad];
      },
    });
    inject = true;
    void host.call('status', {}).catch(() => undefined);
    expect(await device.closed).toMatchObject({ code: expected });
  });
});

describe('handshake violations', () => {
  it('no common version: the phone resets with PROTOCOL_VERSION_UNSUPPORTED', async () => {
    const [a, b] = memoryLinkPair();
    const phone = openDeviceSession(b, { identity: IDENTITY, handlers: {} });
    const err = await openHostSession(a, { versions: [2] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_VERSION_UNSUPPORTED' } });
    await expect(phone).rejects.toMatchObject({ code: 'PROTOCOL_VERSION_UNSUPPORTED' });
  });

  it('a KEY that does not match the commitment fails the handshake', async () => {
    const [a, b] = memoryLinkPair({
      transform: (_d, f) => {
        if (f[5] !== FrameType.KEY) return [f];
        const bad = new Uint8Array(f);
        bad[FRAME_HEADER_SIZE + 10]! ^= 1; // inside the public key
        sealCrc(bad);
        return [bad];
      },
    });
    const phone = openDeviceSession(b, { identity: IDENTITY, handlers: {} });
    const host = openHostSession(a);
    await expect(phone).rejects.toMatchObject({ code: 'PROTOCOL_HANDSHAKE_FAILED' });
    await expect(host).rejects.toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_HANDSHAKE_FAILED' } });
  });

  it('an identity altered in WELCOME changes the transcript, so the keys disagree and READY fails', async () => {
    const [a, b] = memoryLinkPair({
      transform: (_d, f) => {
        if (f[5] !== FrameType.WELCOME) return [f];
        const s = Buffer.from(f);
        const at = s.indexOf('CX600-0001');
        const bad = new Uint8Array(f);
        bad[at + 9] = 0x39; // serial CX600-0009
        sealCrc(bad);
        return [bad];
      },
    });
    const phone = openDeviceSession(b, { identity: IDENTITY, handlers: {} });
    const host = openHostSession(a);
    await expect(host).rejects.toMatchObject({ code: 'PROTOCOL_DECRYPT_FAILED' });
    await expect(phone.then((p) => p.closed)).resolves.toMatchObject({ code: 'PROTOCOL_PEER_RESET' });
  });

  it.each([
    ['a DATA frame before HELLO', encodeFrame({ type: FrameType.DATA, flags: 0, channel: 0, seq: 0, ack: 0 }, new Uint8Array(20)), 'PROTOCOL_UNEXPECTED_FRAME'],
    ['a HELLO with the wrong sequence number', encodeFrame({ type: FrameType.HELLO, flags: 0, channel: 0, seq: 5, ack: 0 }, new Uint8Array(20)), 'PROTOCOL_BAD_SEQUENCE'],
    ['a malformed HELLO', encodeFrame({ type: FrameType.HELLO, flags: 0, channel: 0, seq: 0, ack: 0 }, new Uint8Array(20)), 'PROTOCOL_BAD_MESSAGE'],
    ['an oversize first frame', encodeFrame({ type: FrameType.HELLO, flags: 0, channel: 0, seq: 0, ack: 0 }, new Uint8Array(5000)), 'PROTOCOL_OVERSIZE'],
  ])('the phone fails its handshake on %s', async (_name, frame, expected) => {
    const [a, b] = memoryLinkPair();
    const phone = openDeviceSession(b, { identity: IDENTITY, handlers: {} });
    await a.send(frame);
    await expect(phone).rejects.toMatchObject({ code: expected, stage: null });
    // It told the other end why, then closed the link.
    expect(decodeFrame(await a.receive(4096), 4096).type).toBe(FrameType.RESET);
    await expect(a.receive(4096)).rejects.toMatchObject({ code: 'PROTOCOL_LINK_CLOSED' });
  });

  it('invalid session options are refused up front', async () => {
    const [a] = memoryLinkPair();
    await expect(openHostSession(a, { window: 0 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(openHostSession(a, { maxPayload: 100 })).rejects.toBeInstanceOf(TetherError);
  });
});

describe('message-level limits and violations', () => {
  it('a control message over the receiver’s limit resets with PROTOCOL_MESSAGE_TOO_LARGE', async () => {
    const { host, device } = await connect({ maxMessageBytes: 4096 });
    await host.confirmPairing();
    const big = new Uint8Array(16 * 1024).fill(0x30);
    void host.call('installCaChain', { certificates: [big] }).catch(() => undefined);
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_MESSAGE_TOO_LARGE' });
  });

  it('the phone answers PROTOCOL_BUSY beyond 16 requests in progress, and serves again later', async () => {
    const waiting: Array<() => void> = [];
    const { host } = await connect({
      handlers: {
        ...sampleHandlers(),
        logs: () => new Promise((resolve) => waiting.push(() => resolve({ text: '', truncated: false }))),
      },
    });
    const calls = Array.from({ length: 17 }, () => host.call('logs', { maxBytes: 1 }).then(() => 'ok', (e: TetherError) => e.code));
    await settle();
    expect(waiting.length).toBe(16);
    waiting.forEach((w) => w());
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'ok')).toHaveLength(16);
    expect(results.filter((r) => r === 'PROTOCOL_BUSY')).toHaveLength(1);
    await expect(host.call('status', {})).resolves.toEqual(STATUS);
    await host.close();
  });

  it('a reply to a request never made is PROTOCOL_UNKNOWN_TAG', async () => {
    const { host, device } = await connect();
    const core = coreOf(device);
    const encode = Reflect.get(core, 'encodeControl') as (kind: number, code: number, tag: number, codec: unknown, value: unknown) => Uint8Array;
    const send = Reflect.get(core, 'sendControl') as (message: Uint8Array, secret: boolean) => Promise<void>;
    const { OPERATION_SCHEMAS } = await import('../../../native/protocol/message-schemas');
    const forged = encode.call(core, 2, 0x01, 4242, OPERATION_SCHEMAS.status.reply, STATUS);
    await send.call(core, forged, false);
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_UNKNOWN_TAG' });
  });

  it('a request arriving at the host (only the phone serves requests) is PROTOCOL_BAD_MESSAGE', async () => {
    const { host, device } = await connect();
    const core = coreOf(device);
    const encode = Reflect.get(core, 'encodeControl') as (kind: number, code: number, tag: number, codec: unknown, value: unknown) => Uint8Array;
    const send = Reflect.get(core, 'sendControl') as (message: Uint8Array, secret: boolean) => Promise<void>;
    const { OPERATION_SCHEMAS } = await import('../../../native/protocol/message-schemas');
    await send.call(core, encode.call(core, 1, 0x01, 1, OPERATION_SCHEMAS.status.request, {}), false);
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_BAD_MESSAGE' });
  });
});
