import { describe, expect, it } from 'vitest';
import { memoryLinkPair, openDeviceSession, openHostSession, type FrameLink } from '../../../native/protocol';
import { encodeBody } from '../../../native/protocol/codec';
import { Channel, FrameType, encodeFrame } from '../../../native/protocol/frame';
import { resetCodec } from '../../../native/protocol/message-schemas';
import { STALE_FRAME_LIMIT } from '../../../native/protocol/session';
import { IDENTITY, sampleHandlers, STATUS } from './fixtures';

/** A well-formed frame as an earlier session would have left it (its payload is opaque here). */
function oldFrame(type: FrameType, seq: number, payloadBytes = 40): Uint8Array {
  return encodeFrame({ type, flags: 0, channel: Channel.CONTROL, seq, ack: 0 }, new Uint8Array(payloadBytes).fill(0xa5));
}

function oldReset(seq: number): Uint8Array {
  return encodeFrame({ type: FrameType.RESET, flags: 0, channel: Channel.CONTROL, seq, ack: 0 }, encodeBody(resetCodec, { code: 'PROTOCOL_HEARTBEAT_TIMEOUT' }));
}

/** Puts `frames` in the host's receive queue, as if the phone's IN pipe still held them. */
async function leftInPipe(phoneLink: FrameLink, frames: readonly Uint8Array[]): Promise<void> {
  for (const f of frames) await phoneLink.send(f);
}

describe('host handshake: frames of an earlier session before WELCOME (§4.4)', () => {
  it('skips and counts them, never using any, and the new session works', async () => {
    const [hostLink, phoneLink] = memoryLinkPair();
    // DATA, PING, ACK, a RESET from the old session's end, and even an old WELCOME (seq ≠ 0).
    const stale = [oldFrame(FrameType.DATA, 7), oldFrame(FrameType.PING, 8, 16), oldFrame(FrameType.ACK, 9, 16), oldFrame(FrameType.WELCOME, 3), oldReset(10)];
    // A big DATA frame too: leftovers may be as long as the old session's payload limit.
    stale.push(oldFrame(FrameType.DATA, 11, 60_000));
    await leftInPipe(phoneLink, stale);
    const phone = openDeviceSession(phoneLink, { identity: IDENTITY, handlers: sampleHandlers() });
    const host = await openHostSession(hostLink);
    await phone;
    expect(host.staleFramesSkipped).toBe(stale.length);
    expect(host.identity).toEqual(IDENTITY);
    await host.confirmPairing();
    expect((await host.call('status', {})).registration.state).toBe(STATUS.registration.state);
    await host.close();
  });

  it('without leftovers nothing is counted', async () => {
    const [hostLink, phoneLink] = memoryLinkPair();
    const phone = openDeviceSession(phoneLink, { identity: IDENTITY, handlers: sampleHandlers() });
    const host = await openHostSession(hostLink);
    await phone;
    expect(host.staleFramesSkipped).toBe(0);
    await host.close();
  });

  it(`fails closed after ${STALE_FRAME_LIMIT} of them`, async () => {
    const [hostLink, phoneLink] = memoryLinkPair();
    await leftInPipe(
      phoneLink,
      Array.from({ length: STALE_FRAME_LIMIT + 1 }, (_, i) => oldFrame(FrameType.DATA, 100 + i)),
    );
    const phone = openDeviceSession(phoneLink, { identity: IDENTITY, handlers: sampleHandlers() });
    await expect(openHostSession(hostLink)).rejects.toMatchObject({
      code: 'PROTOCOL_BAD_SEQUENCE',
      detail: { skipped: STALE_FRAME_LIMIT, limit: STALE_FRAME_LIMIT },
    });
    await expect(phone).rejects.toMatchObject({ code: 'PROTOCOL_PEER_RESET' });
  });

  it('exactly the limit still opens', async () => {
    const [hostLink, phoneLink] = memoryLinkPair();
    await leftInPipe(phoneLink, Array.from({ length: STALE_FRAME_LIMIT }, (_, i) => oldFrame(FrameType.DATA, 1 + i)));
    const phone = openDeviceSession(phoneLink, { identity: IDENTITY, handlers: sampleHandlers() });
    const host = await openHostSession(hostLink);
    await phone;
    expect(host.staleFramesSkipped).toBe(STALE_FRAME_LIMIT);
    await host.close();
  });

  const failClosed: Array<[string, () => Uint8Array, string]> = [
    ['garbage (bad magic)', () => Uint8Array.from({ length: 40 }, (_, i) => i), 'PROTOCOL_BAD_MAGIC'],
    ['a frame with a bad CRC', () => {
      const f = oldFrame(FrameType.DATA, 5);
      f[20]! ^= 1; // the CRC field itself (a sealed frame's CRC covers its header, §2.5)
      return f;
    }, 'PROTOCOL_BAD_CRC'],
    ['a truncated frame', () => oldFrame(FrameType.DATA, 5).subarray(0, 30), 'PROTOCOL_LENGTH_MISMATCH'],
    ['a frame of another type with seq 0', () => oldFrame(FrameType.PING, 0, 16), 'PROTOCOL_UNEXPECTED_FRAME'],
    ['a DATA frame with seq 0', () => oldFrame(FrameType.DATA, 0), 'PROTOCOL_UNEXPECTED_FRAME'],
    ['a handshake-sized limit broken by a seq-0 frame', () => oldFrame(FrameType.WELCOME, 0, 5000), 'PROTOCOL_OVERSIZE'],
  ];
  for (const [name, make, code] of failClosed) {
    it(`${name} before WELCOME still fails closed (${code})`, async () => {
      const [hostLink, phoneLink] = memoryLinkPair();
      await leftInPipe(phoneLink, [oldFrame(FrameType.DATA, 4), make()]);
      const phone = openDeviceSession(phoneLink, { identity: IDENTITY, handlers: sampleHandlers() });
      const host = openHostSession(hostLink);
      await expect(host).rejects.toMatchObject({ code });
      await expect(phone).rejects.toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: code } });
    });
  }

  it('a RESET with seq 0 is the new session refusing: PROTOCOL_PEER_RESET', async () => {
    const [hostLink, phoneLink] = memoryLinkPair();
    await leftInPipe(phoneLink, [oldFrame(FrameType.DATA, 4), oldReset(0)]);
    await expect(openHostSession(hostLink)).rejects.toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_HEARTBEAT_TIMEOUT' } });
  });

  it('after WELCOME nothing is skipped: an old frame before READY is PROTOCOL_BAD_SEQUENCE', async () => {
    let injected = false;
    const [hostLink, phoneLink] = memoryLinkPair({
      transform: (d, f) => {
        if (d !== 'b→a' || f[5] !== FrameType.WELCOME || injected) return [f];
        injected = true;
        return [f, oldFrame(FrameType.DATA, 9)];
      },
    });
    const phone = openDeviceSession(phoneLink, { identity: IDENTITY, handlers: sampleHandlers() });
    await expect(openHostSession(hostLink)).rejects.toMatchObject({ code: 'PROTOCOL_BAD_SEQUENCE' });
    // The phone was open once it sent READY; the host's RESET ends it.
    expect(await (await phone).closed).toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_BAD_SEQUENCE' } });
  });

  it('the phone side never skips: an old frame before HELLO fails its handshake', async () => {
    const [hostLink, phoneLink] = memoryLinkPair();
    await leftInPipe(hostLink, [oldFrame(FrameType.DATA, 4)]);
    const phone = openDeviceSession(phoneLink, { identity: IDENTITY, handlers: sampleHandlers() });
    const host = openHostSession(hostLink);
    await expect(phone).rejects.toMatchObject({ code: 'PROTOCOL_BAD_SEQUENCE' });
    await expect(host).rejects.toMatchObject({ code: 'PROTOCOL_PEER_RESET' });
  });
});

describe('phone side: a HELLO while a session is open (§4.4)', () => {
  it('without putBack on the link it is a violation (fail closed)', async () => {
    const [hostLink, phoneLink] = memoryLinkPair();
    const phone = openDeviceSession(phoneLink, { identity: IDENTITY, handlers: sampleHandlers() });
    const host = await openHostSession(hostLink);
    const device = await phone;
    const hello = encodeFrame({ type: FrameType.HELLO, flags: 0, channel: Channel.CONTROL, seq: 0, ack: 0 }, new Uint8Array(8));
    await hostLink.send(hello);
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_BAD_SEQUENCE' });
    await host.closed;
  });

  it('with putBack the session ends without RESET and hands the HELLO over unchanged', async () => {
    const [hostLink, phoneLink] = memoryLinkPair();
    const putBack: Uint8Array[] = [];
    const sent: Uint8Array[] = [];
    const link: FrameLink = {
      send: (f) => {
        sent.push(f);
        return phoneLink.send(f);
      },
      receive: (n) => phoneLink.receive(n),
      close: () => phoneLink.close(),
      putBack: (f) => void putBack.push(f),
    };
    const phone = openDeviceSession(link, { identity: IDENTITY, handlers: sampleHandlers() });
    const host = await openHostSession(hostLink);
    const device = await phone;
    const before = sent.length;
    const hello = encodeFrame({ type: FrameType.HELLO, flags: 0, channel: Channel.CONTROL, seq: 0, ack: 0 }, new Uint8Array(8));
    await hostLink.send(hello);
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'NEW_SESSION' } });
    expect(putBack).toEqual([hello]);
    expect(sent.slice(before).filter((f) => f[5] === FrameType.RESET)).toEqual([]);
    await host.close();
  });

  it('a HELLO with seq ≠ 0 is still a violation', async () => {
    const [hostLink, phoneLink] = memoryLinkPair();
    const link: FrameLink = { send: (f) => phoneLink.send(f), receive: (n) => phoneLink.receive(n), close: () => phoneLink.close(), putBack: () => {} };
    const phone = openDeviceSession(link, { identity: IDENTITY, handlers: sampleHandlers() });
    const host = await openHostSession(hostLink);
    const device = await phone;
    await hostLink.send(encodeFrame({ type: FrameType.HELLO, flags: 0, channel: Channel.CONTROL, seq: 3, ack: 0 }, new Uint8Array(8)));
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_BAD_SEQUENCE' });
    await host.closed;
  });
});
