import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import {
  EVENT_NAMES,
  OPERATION_NAMES,
  type Events,
  type OperationName,
  type OperationRequest,
} from '../../../native/protocol';
import { connect, IDENTITY, SAMPLES, sampleHandlers, settle, STATUS } from './fixtures';

describe('tether operations between host and phone sessions', () => {
  it('handshake gives the phone identity, negotiated limits and the same SAS on both sides', async () => {
    let shown = '';
    const { host, device } = await connect({ showSas: (sas) => (shown = sas), maxPayload: 8192, window: 16 }, { maxPayload: 65536, window: 8 });
    expect(host.identity).toEqual(IDENTITY);
    expect(host.pairing().sas).toMatch(/^\d{6}$/);
    expect(host.pairing()).toEqual({ sas: device.sas, confirmed: false, method: 'code', remembered: false });
    expect(shown).toBe(device.sas);
    expect(host.negotiated).toMatchObject({ version: 1, maxPayload: 8192, sendWindow: 16, receiveWindow: 8 });
    expect(device.negotiated).toMatchObject({ version: 1, maxPayload: 8192, sendWindow: 8, receiveWindow: 16 });
    expect(host.negotiated.features).toEqual(['bulk-firmware', 'events']);
    await host.close();
  });

  it('every session uses fresh keys (the handshakes differ)', async () => {
    const a = await connect();
    const b = await connect();
    const raw = (p: typeof a) => Buffer.concat(p.hostFrames.slice(0, 2)).toString('hex');
    expect(raw(a)).not.toBe(raw(b));
    await Promise.all([a.host.close(), b.host.close()]);
  });

  it.each(OPERATION_NAMES)('%s round-trips (request reaches the handler, reply reaches the caller)', async (op: OperationName) => {
    const seen: Array<{ op: OperationName; request: unknown }> = [];
    const { host } = await connect({ handlers: sampleHandlers(seen) });
    await host.confirmPairing();
    const sample = SAMPLES[op];
    const reply = await host.call(op, sample.request as OperationRequest<typeof op>);
    expect(reply).toEqual(sample.reply);
    expect(seen).toEqual([{ op, request: sample.request }]);
    await host.close();
  });

  it('NTLM credentials round-trip as the other union variant', async () => {
    const seen: Array<{ op: OperationName; request: unknown }> = [];
    const { host } = await connect({ handlers: sampleHandlers(seen) });
    await host.confirmPairing();
    const request = { kind: 'ntlm', domain: 'CONTOSO', user: 'alice', password: 'pa55 wörd', sipUri: 'sip:alice@contoso.com' } as const;
    await expect(host.call('credentials', request)).resolves.toEqual({ accepted: true });
    expect(seen[0]?.request).toEqual(request);
    await host.close();
  });

  it('a phone error reply becomes the typed error with its stage; the session stays up', async () => {
    const { host } = await connect({
      handlers: {
        ...sampleHandlers(),
        firmwareVerify: async () => {
          throw new TetherError('DEVICE_FIRMWARE_HASH_MISMATCH', 'sha mismatch');
        },
        reboot: async () => {
          throw new Error('raw failure with internals');
        },
      },
    });
    const err = await host.call('firmwareVerify', { transferId: 7 }).catch((e: unknown) => e);
    expect(TetherError.is(err, 'DEVICE_FIRMWARE_HASH_MISMATCH')).toBe(true);
    expect((err as TetherError).stage).toBe('check-update');
    const internal = await host.call('reboot', { delayMs: 0 }).catch((e: unknown) => e);
    expect(TetherError.is(internal, 'DEVICE_INTERNAL')).toBe(true);
    expect((internal as TetherError).message).not.toContain('internals');
    expect(await host.call('status', {})).toEqual(STATUS);
    await host.close();
  });

  it('a long non-ASCII error message is cut to 512 UTF-8 bytes, never breaking the reply', async () => {
    const { host } = await connect({
      handlers: {
        wipe: async () => {
          throw new TetherError('DEVICE_STORAGE_FULL', 'Speicher voll — ✗'.repeat(100));
        },
      },
    });
    await host.confirmPairing();
    const err = (await host.call('wipe', { includeCertificate: false }).catch((e: unknown) => e)) as TetherError;
    expect(err.code).toBe('DEVICE_STORAGE_FULL');
    expect(Buffer.byteLength(err.message)).toBeLessThanOrEqual(512);
    expect(err.message.startsWith('Speicher voll — ✗')).toBe(true);
    await host.close();
  });

  it('a missing handler answers PROTOCOL_UNSUPPORTED_OPERATION; an invalid handler reply answers DEVICE_INTERNAL', async () => {
    const { host } = await connect({
      handlers: { status: async () => ({ ...STATUS, vlan: 5000 }) },
    });
    await expect(host.call('logs', { maxBytes: 10 })).rejects.toMatchObject({ code: 'PROTOCOL_UNSUPPORTED_OPERATION' });
    await expect(host.call('status', {})).rejects.toMatchObject({ code: 'DEVICE_INTERNAL' });
    expect(host.state).toBe('open');
    await host.close();
  });

  it('the host refuses to send an invalid request (typed error, nothing sent, session up)', async () => {
    const { host, hostFrames } = await connect();
    const before = hostFrames.length;
    await expect(host.call('reboot', { delayMs: -1 })).rejects.toMatchObject({ code: 'PROTOCOL_BAD_MESSAGE' });
    await expect(host.call('logs', { maxBytes: 1, extra: 1 } as unknown as { maxBytes: number })).rejects.toMatchObject({
      code: 'PROTOCOL_BAD_MESSAGE',
    });
    expect(hostFrames.length).toBe(before);
    expect(host.state).toBe('open');
    await host.close();
  });

  it('concurrent calls are matched to their replies by tag', async () => {
    const { host } = await connect({
      handlers: {
        ...sampleHandlers(),
        // The slow one answers last, so replies come back out of request order.
        logs: async (req) => {
          await new Promise((r) => setTimeout(r, 20));
          return { text: `n=${req.maxBytes}`, truncated: false };
        },
      },
    });
    const calls = [5, 1, 4, 2, 3].map((n) => host.call('logs', { maxBytes: n }));
    const status = host.call('status', {});
    expect((await Promise.all(calls)).map((r) => r.text)).toEqual(['n=5', 'n=1', 'n=4', 'n=2', 'n=3']);
    expect(await status).toEqual(STATUS);
    await host.close();
  });

  it('a reply larger than one frame is fragmented and reassembled', async () => {
    const text = 'log line with ünicode ✓\n'.repeat(40_000); // ~1 MiB
    const { host, deviceFrames } = await connect(
      { maxPayload: 4096, handlers: { logs: async () => ({ text, truncated: true }) } },
      { maxPayload: 4096 },
    );
    const before = deviceFrames.length;
    const reply = await host.call('logs', { maxBytes: 8 * 1024 * 1024 });
    expect(reply.text).toBe(text);
    expect(deviceFrames.length - before).toBeGreaterThan(250);
    await host.close();
  });

  it.each(EVENT_NAMES)('event %s reaches host listeners', async (name) => {
    const { host, device } = await connect();
    const payloads: Record<keyof Events, Events[keyof Events]> = {
      status: STATUS,
      registration: STATUS.registration,
      display: { text: 'Welcome' },
    };
    const got: unknown[] = [];
    const off = host.on(name, (p) => got.push(p));
    await device.emit(name, payloads[name] as never);
    await device.emit(name, payloads[name] as never);
    await host.call('status', {}); // a round trip after the events: they have arrived
    off();
    await device.emit(name, payloads[name] as never);
    await host.call('status', {});
    expect(got).toEqual([payloads[name], payloads[name]]);
    await host.close();
  });

  it('firmware: begin, stream on the bulk channel, resume after a reset, verify', async () => {
    const image = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
    // A tiny phone-side store that survives sessions (as flash survives an unplug).
    let held = 0;
    const store = new Uint8Array(image.length);
    let chunks = 0;
    let breakAfter = 10;
    const handlers = {
      ...sampleHandlers(),
      firmwareBegin: async () => ({ transferId: 9, slot: 'b' as const, have: held }),
      firmwareVerify: async () => {
        if (held !== image.length) throw new TetherError('DEVICE_FIRMWARE_INCOMPLETE');
        return { sha256: new Uint8Array(32) };
      },
    };
    const onBulk = async (chunk: { transferId: number; offset: number; data: Uint8Array }) => {
      if (chunk.transferId !== 9 || chunk.offset !== held) throw new TetherError('DEVICE_FIRMWARE_OUT_OF_RANGE');
      await new Promise((r) => setImmediate(r)); // flash is slower than the bus
      store.set(chunk.data, chunk.offset);
      held += chunk.data.length;
      chunks++;
    };
    const first = await connect({ handlers, onBulk, maxPayload: 8192 }, { maxPayload: 8192 });
    const begin = await first.host.call('firmwareBegin', { size: image.length, version: '4.0.7577.4463', sha256: new Uint8Array(32) });
    expect(begin.have).toBe(0);
    // Unplug mid-transfer: the link dies after some chunks.
    const writer = first.host.bulkWriter(begin.transferId);
    const done = writer.write(0, image).then(() => writer.flush());
    while (chunks < breakAfter) await new Promise((r) => setImmediate(r));
    await first.hostLink.close();
    await expect(done).rejects.toBeInstanceOf(TetherError);
    expect(await first.host.closed).toBeInstanceOf(TetherError);
    expect(await first.device.closed).toMatchObject({ code: 'PROTOCOL_LINK_CLOSED' });
    await settle(); // the chunk the phone was writing when the cable went finishes
    breakAfter = Infinity;
    const kept = held;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(image.length);

    const second = await connect({ handlers, onBulk, maxPayload: 8192 }, { maxPayload: 8192 });
    const again = await second.host.call('firmwareBegin', { size: image.length, version: '4.0.7577.4463', sha256: new Uint8Array(32) });
    expect(again.have).toBe(kept);
    await expect(second.host.call('firmwareVerify', { transferId: 9 })).rejects.toMatchObject({ code: 'DEVICE_FIRMWARE_INCOMPLETE' });
    const w = second.host.bulkWriter(again.transferId);
    await w.write(again.have, image.subarray(again.have));
    await w.flush();
    expect(held).toBe(image.length);
    expect(Buffer.compare(store, image)).toBe(0);
    await expect(second.host.call('firmwareVerify', { transferId: 9 })).resolves.toEqual({ sha256: new Uint8Array(32) });
    await second.host.close();
  });

  it('calls after close reject with a typed error', async () => {
    const { host, device } = await connect();
    await host.close();
    expect(await host.closed).toBeNull();
    await expect(host.call('status', {})).rejects.toMatchObject({ code: 'PROTOCOL_SESSION_CLOSED' });
    const deviceEnd = await device.closed;
    expect(deviceEnd).toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_SESSION_CLOSED' } });
    await expect(device.emit('display', { text: 'x' })).rejects.toBeInstanceOf(TetherError);
  });
});
