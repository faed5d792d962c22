import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import {
  memoryLinkPair,
  openDeviceSession,
  openHostSession,
  PAIRED_ONLY_OPERATIONS,
  type MemoryDirection,
  type OperationName,
} from '../../../native/protocol';
import { FRAME_HEADER_SIZE, FrameType, decodeFrame, sealCrc } from '../../../native/protocol/frame';
import { CORE, type SessionCore } from '../../../native/protocol/session';
import { connect, containsBytes, IDENTITY, SAMPLES, sampleHandlers, settle } from './fixtures';

const SECRET_PIN = '97531864';
const SECRET_PASSWORD = 'Correct-Horse-Battery-9';

/** A transform that lets a test act on the next host→phone DATA frame. */
function tamper() {
  let action: ((frame: Uint8Array) => readonly Uint8Array[]) | undefined;
  return {
    arm(a: (frame: Uint8Array) => readonly Uint8Array[]) {
      action = a;
    },
    transform: (direction: MemoryDirection, frame: Uint8Array): readonly Uint8Array[] => {
      if (direction !== 'a→b' || action === undefined || frame[5] !== FrameType.DATA) return [frame];
      const a = action;
      action = undefined;
      return a(frame);
    },
  };
}

describe('pairing gate', () => {
  it('without confirmation, no credential byte crosses the link and the host API refuses every paired-only operation', async () => {
    const seen: Array<{ op: OperationName; request: unknown }> = [];
    const { host, hostFrames } = await connect({ handlers: sampleHandlers(seen) });
    const before = hostFrames.length;
    for (const op of PAIRED_ONLY_OPERATIONS) {
      const err = await host.call(op, SAMPLES[op].request as never).catch((e: unknown) => e);
      expect(TetherError.is(err, 'PROTOCOL_NOT_PAIRED'), op).toBe(true);
    }
    const pin = await host.call('credentials', { kind: 'pin', extension: '1234', pin: SECRET_PIN }).catch((e: unknown) => e);
    expect(TetherError.is(pin, 'PROTOCOL_NOT_PAIRED')).toBe(true);
    const ntlm = await host
      .call('credentials', { kind: 'ntlm', domain: 'CONTOSO', user: 'alice', password: SECRET_PASSWORD, sipUri: 'sip:alice@contoso.com' })
      .catch((e: unknown) => e);
    expect(TetherError.is(ntlm, 'PROTOCOL_NOT_PAIRED')).toBe(true);
    await settle();
    // Not one frame left the host for any of those calls, and the phone's handlers never ran.
    expect(hostFrames.length).toBe(before);
    expect(seen).toEqual([]);
    // Read-only operations still work unpaired.
    await expect(host.call('status', {})).resolves.toBeDefined();
    await host.close();
  });

  it('the phone refuses paired-only requests on its own (a host that skips its check gets PROTOCOL_NOT_PAIRED)', async () => {
    const seen: Array<{ op: OperationName; request: unknown }> = [];
    const { host } = await connect({ handlers: sampleHandlers(seen) });
    const core = (host as unknown as { [CORE]: SessionCore })[CORE];
    for (const op of PAIRED_ONLY_OPERATIONS) {
      await expect(core.sendRequest(op, SAMPLES[op].request as never), op).rejects.toMatchObject({ code: 'PROTOCOL_NOT_PAIRED' });
    }
    expect(seen).toEqual([]);
    expect(host.state).toBe('open');
    await host.close();
  });

  it('after confirmation the credentials reach the phone, encrypted on the wire', async () => {
    const seen: Array<{ op: OperationName; request: unknown }> = [];
    let pairedOnPhone = false;
    const { host, device, hostFrames } = await connect({ handlers: sampleHandlers(seen), onPaired: () => (pairedOnPhone = true) });
    expect(host.paired).toBe(false);
    await host.confirmPairing();
    expect(host.paired && device.paired && pairedOnPhone).toBe(true);
    expect(host.pairing().confirmed).toBe(true);
    await host.call('credentials', { kind: 'ntlm', domain: 'CONTOSO', user: 'alice', password: SECRET_PASSWORD, sipUri: 'sip:alice@contoso.com' });
    expect(seen[0]?.request).toMatchObject({ password: SECRET_PASSWORD });
    const wire = Buffer.concat(hostFrames);
    expect(containsBytes(wire, Buffer.from(SECRET_PASSWORD))).toBe(false);
    expect(containsBytes(wire, Buffer.from('CONTOSO'))).toBe(false);
    await host.close();
  });
});

describe('sealed frames', () => {
  it('an altered ciphertext (CRC fixed up) is rejected and both sides reset', async () => {
    const t = tamper();
    const { host, device } = await connect({}, {}, { transform: t.transform });
    t.arm((frame) => {
      const copy = new Uint8Array(frame); // a copy (frames may be Buffers, whose slice() is a view)
      copy[FRAME_HEADER_SIZE + 3]! ^= 0x01;
      sealCrc(copy);
      return [copy];
    });
    const call = host.call('status', {});
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_DECRYPT_FAILED' });
    await expect(call).rejects.toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_DECRYPT_FAILED' } });
    expect(host.state).toBe('closed');
  });

  it('an altered header field (ack, flags) under a fixed-up CRC fails authentication', async () => {
    const t = tamper();
    const { host, device } = await connect({}, {}, { transform: t.transform });
    t.arm((frame) => {
      const copy = new Uint8Array(frame); // a copy (frames may be Buffers, whose slice() is a view)
      copy[6] = copy[6]! ^ 0x02; // ACK_REQUEST is legal on DATA, so only the AEAD can catch the change
      sealCrc(copy);
      return [copy];
    });
    void host.call('status', {}).catch(() => undefined);
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_DECRYPT_FAILED' });
  });

  it('a replayed frame is rejected', async () => {
    const t = tamper();
    const { host, device } = await connect({}, {}, { transform: t.transform });
    t.arm((frame) => [frame, frame]);
    void host.call('status', {}).catch(() => undefined); // may be answered before the replay arrives
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_BAD_SEQUENCE' });
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_BAD_SEQUENCE' } });
  });

  it('a replayed frame with its sequence number rewritten fails authentication (the nonce is the sequence)', async () => {
    const t = tamper();
    const { host, device, hostFrames } = await connect({}, {}, { transform: t.transform });
    await host.call('status', {});
    const old = hostFrames.find((f) => f[5] === FrameType.DATA)!;
    t.arm((frame) => {
      const next = decodeFrame(frame, 1 << 20).seq;
      const forged = new Uint8Array(old);
      new DataView(forged.buffer).setUint32(8, next, true);
      sealCrc(forged);
      return [forged];
    });
    void host.call('status', {}).catch(() => undefined);
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_DECRYPT_FAILED' });
  });

  it('a host frame reflected back to the host fails authentication (each direction has its own key)', async () => {
    let reflect = false;
    let hostFrame: Uint8Array | undefined;
    const [a, b] = memoryLinkPair({
      transform: (d, f) => {
        if (d === 'a→b' && f[5] === FrameType.DATA) hostFrame = new Uint8Array(f);
        if (!reflect || d !== 'b→a' || hostFrame === undefined) return [f];
        reflect = false;
        const forged = new Uint8Array(hostFrame);
        forged.set(f.subarray(8, 12), 8); // the seq the host expects next
        sealCrc(forged);
        return [forged];
      },
    });
    const phone = openDeviceSession(b, { identity: IDENTITY, handlers: sampleHandlers() });
    const host = await openHostSession(a);
    await phone;
    await host.call('status', {});
    reflect = true;
    void host.call('status', {}).catch(() => undefined);
    expect(await host.closed).toMatchObject({ code: 'PROTOCOL_DECRYPT_FAILED' });
  });

  it('reordered frames are rejected', async () => {
    const t = tamper();
    const { host, device } = await connect({}, {}, { transform: t.transform });
    let held: Uint8Array | undefined;
    t.arm((frame) => {
      held = frame;
      t.arm((second) => [second, held!]);
      return [];
    });
    const a = host.call('status', {});
    const b = host.call('logs', { maxBytes: 10 });
    expect(await device.closed).toMatchObject({ code: 'PROTOCOL_BAD_SEQUENCE' });
    await expect(Promise.all([a, b])).rejects.toBeInstanceOf(TetherError);
  });

  it('a relaying man in the middle leaves different codes on the two ends (the user sees the mismatch)', async () => {
    // Two honest handshakes relayed through a middle that terminates each: host↔M1 and M2↔phone.
    const [h, m1] = memoryLinkPair();
    const [m2, p] = memoryLinkPair();
    const phone = openDeviceSession(p, { identity: IDENTITY, handlers: sampleHandlers() });
    const middleAsPhone = openDeviceSession(m1, { identity: IDENTITY, handlers: sampleHandlers() });
    const host = await openHostSession(h);
    const middleAsHost = await openHostSession(m2);
    const [phoneSession, middlePhone] = await Promise.all([phone, middleAsPhone]);
    // Each leg has its own keys and SAS; the codes at the two real ends differ (but for a 1-in-10^6 chance).
    expect(host.pairing().sas).toBe(middlePhone.sas);
    expect(middleAsHost.pairing().sas).toBe(phoneSession.sas);
    expect(host.pairing().sas).not.toBe(phoneSession.sas);
    await Promise.all([host.close(), middleAsHost.close()]);
  });
});
