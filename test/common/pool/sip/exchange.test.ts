import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  buildProvisioningBody,
  buildResponse,
  parseSipMessage,
  PROVISIONING_CONTENT_TYPE,
  registrarSocketError,
  runRegisterExchange,
  serializeSipMessage,
  type RegisterExchangeOptions,
  type RegisterSocket,
  type RegistrarProvisioning,
} from '../../../../common/pool/sip';

const PROV: RegistrarProvisioning = {
  registrarFqdn: 'pool01.contoso.test',
  deviceUpdateInternalUrl: 'https://pool01.contoso.test/RequestHandler/ucdevice.upx',
  deviceUpdateExternalUrl: 'https://edge.contoso.test/RequestHandlerExt/ucdevice.upx',
  enforcePinLock: false,
  minPinLength: 4,
  phoneTimeoutSeconds: 600,
};

/** A socket in memory: the test plays the TLS layer and the Registrar. */
class FakeSocket extends EventEmitter implements RegisterSocket {
  readonly localAddress = '127.0.0.1';
  readonly localPort = 40000;
  readonly written: Uint8Array[] = [];
  destroyed = false;
  write(data: Uint8Array): boolean {
    this.written.push(data);
    return true;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

const OPTIONS: RegisterExchangeOptions = { where: 'pool01.contoso.test:5061', sipUri: 'sip:alice@contoso.test', timeoutMs: 1000 };

async function failureOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err: unknown = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: expect.any(String) });
  return err as { code: string; message: string };
}

describe('runRegisterExchange (the REGISTER over TLS that main/ and native/ share)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the REGISTER once the TLS handshake is done, resolves on the 200 OK and destroys the socket', async () => {
    const socket = new FakeSocket();
    const done = runRegisterExchange(socket, OPTIONS);
    expect(socket.written).toHaveLength(0);
    socket.emit('secureConnect');
    expect(socket.written).toHaveLength(1);
    const req = parseSipMessage(socket.written[0]!);
    if (req.kind !== 'request') throw new Error('not a request');
    expect(req.method).toBe('REGISTER');
    const ok = buildResponse(req, 200, 'OK', [], { type: PROVISIONING_CONTENT_TYPE, text: buildProvisioningBody(PROV) });
    const wire = Buffer.from(serializeSipMessage(ok));
    socket.emit('data', wire.subarray(0, 10));
    socket.emit('data', wire.subarray(10));
    await expect(done).resolves.toMatchObject({ sipUri: 'sip:alice@contoso.test', registrar: OPTIONS.where, provisioning: PROV });
    expect(socket.destroyed).toBe(true);
  });

  it('a refusal from the Registrar is its typed error', async () => {
    const socket = new FakeSocket();
    const done = runRegisterExchange(socket, OPTIONS);
    socket.emit('secureConnect');
    const req = parseSipMessage(socket.written[0]!);
    if (req.kind !== 'request') throw new Error('not a request');
    socket.emit('data', Buffer.from(serializeSipMessage(buildResponse(req, 403, 'Forbidden'))));
    expect((await failureOf(done)).code).toBe('REGISTRAR_FORBIDDEN');
  });

  it('no connection in time is REGISTRAR_UNREACHABLE; no answer after the handshake is REGISTRAR_TIMEOUT', async () => {
    const silent = new FakeSocket();
    const connecting = runRegisterExchange(silent, OPTIONS);
    vi.advanceTimersByTime(1000);
    expect((await failureOf(connecting)).code).toBe('REGISTRAR_UNREACHABLE');
    expect(silent.destroyed).toBe(true);

    const mute = new FakeSocket();
    const waiting = runRegisterExchange(mute, OPTIONS);
    mute.emit('secureConnect');
    vi.advanceTimersByTime(999);
    mute.emit('data', Buffer.from('SIP/2.0 100 Trying\r\n'));
    vi.advanceTimersByTime(1);
    expect((await failureOf(waiting)).code).toBe('REGISTRAR_TIMEOUT');
  });

  it('socket errors and an early close map to typed stage-9 errors, whatever comes after', async () => {
    const refused = new FakeSocket();
    const a = runRegisterExchange(refused, OPTIONS);
    refused.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    refused.emit('close');
    expect(await failureOf(a)).toMatchObject({ code: 'REGISTRAR_UNREACHABLE', message: expect.stringContaining('Unable to contact Registrar') });

    const badCert = new FakeSocket();
    const b = runRegisterExchange(badCert, OPTIONS);
    badCert.emit('error', Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }));
    expect((await failureOf(b)).code).toBe('REGISTRAR_TLS_FAILED');

    const closed = new FakeSocket();
    const c = runRegisterExchange(closed, OPTIONS);
    closed.emit('secureConnect');
    closed.emit('close');
    expect((await failureOf(c)).code).toBe('REGISTRAR_UNREACHABLE');
  });

  it('an abort signal cancels, before or during the exchange', async () => {
    const early = new AbortController();
    early.abort();
    const s1 = new FakeSocket();
    expect((await failureOf(runRegisterExchange(s1, { ...OPTIONS, signal: early.signal }))).code).toBe('CANCELLED');
    expect(s1.destroyed).toBe(true);

    const late = new AbortController();
    const s2 = new FakeSocket();
    const p = runRegisterExchange(s2, { ...OPTIONS, signal: late.signal });
    s2.emit('secureConnect');
    late.abort();
    expect((await failureOf(p)).code).toBe('CANCELLED');
  });

  it('a bad SIP address is a typed error at the handshake, not a crash', async () => {
    const socket = new FakeSocket();
    const p = runRegisterExchange(socket, { ...OPTIONS, sipUri: 'not a uri' });
    socket.emit('secureConnect');
    const e = await failureOf(p);
    expect(e.code).not.toBe('INTERNAL');
  });

  it('registrarSocketError: a typed error passes through; unknown codes after the handshake are a closed exchange', () => {
    const typed = registrarSocketError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'r:1', true);
    expect(typed.code).toBe('REGISTRAR_UNREACHABLE');
    expect(typed.detail).toMatchObject({ phase: 'exchange' });
    expect(registrarSocketError(typed, 'r:1', false)).toBe(typed);
  });
});
