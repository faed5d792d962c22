import { createHmac } from 'node:crypto';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { TlsDskClientHandshake, TlsDskServerHandshake, TLS_DSK_INNER_TLS } from '../../../../common/pool/sip/tls-dsk-engine';
import { TlsFlightCollector } from '../../../../common/pool/sip/tls-dsk-flight';
import { issue, makePki, testKey } from '../../../support/throwaway-pki';

const pki = makePki();
const alice = issue({ cn: 'sip:alice@contoso.test', key: testKey(3), issuer: pki.intermediate });
const stranger = issue({ cn: 'sip:alice@contoso.test', key: testKey(4) }); // self-signed: foreign CA

const serverContext = () => ({ cert: pki.leaf.pem + pki.intermediate.pem, key: pki.leaf.keyPem, ca: [pki.root.pem, pki.intermediate.pem] });
const clientContext = (cred: { pem: string; keyPem: string } | null, extra: Record<string, string> = {}) =>
  createSecureContext({ ...(cred ? { cert: cred.pem, key: cred.keyPem } : {}), ca: [pki.root.pem], ...TLS_DSK_INNER_TLS, ...extra });

/** Runs both sides to the end, counting the gssapi-data round trips. */
async function handshake(client: TlsDskClientHandshake, server: TlsDskServerHandshake) {
  let token = await client.start();
  let roundTrips = 0;
  for (;;) {
    const s = await server.next(token);
    roundTrips++;
    const c = await client.next(s.token);
    if (c.kind === 'established') return { client: c, server: s.established, roundTrips };
    token = c.token;
    if (roundTrips > 5) throw new Error('no end');
  }
}

describe('TLS-DSK inner handshake over gssapi-data flights', () => {
  it('completes in two round trips and both sides derive the same client and server keys', async () => {
    const client = new TlsDskClientHandshake(clientContext(alice), 'pool01.contoso.test', alice.der);
    const server = new TlsDskServerHandshake(serverContext());
    const r = await handshake(client, server);
    expect(r.roundTrips).toBe(2);
    expect(r.server?.peer.authorized).toBe(true);
    expect(r.server?.peer.certDer?.equals(Buffer.from(alice.der))).toBe(true);
    expect(r.client.keys.clientKey.equals(r.server!.keys.clientKey)).toBe(true);
    expect(r.client.keys.serverKey.equals(r.server!.keys.serverKey)).toBe(true);
    expect(r.client.keys.clientKey.equals(r.client.keys.serverKey)).toBe(false);
    expect(r.client.keys.clientKey).toHaveLength(32);
    expect(r.client.keys.algorithm).toBe('sha1');
    expect(r.client.keys.protocol).toBe('TLSv1.2');
    expect(r.client.certNotAfter?.getTime()).toBe(alice.cert.validity.notAfter.getTime() - (alice.cert.validity.notAfter.getTime() % 1000));
    client.close();
    server.close();
  });

  it('refuses a client that offers only TLS 1.0 (SIPE\'s ClientHello): security level 0 is never set by Tether', async () => {
    // This client stands for SIPE, not Tether: it lowers its own security level to send TLS 1.0.
    const sipeLike = new TlsDskClientHandshake(clientContext(alice, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:@SECLEVEL=0' } as never), 'pool01.contoso.test');
    await expect(handshake(sipeLike, new TlsDskServerHandshake(serverContext()))).rejects.toThrow(/protocol|version/i);
  });

  it('tells the server when the client sent no certificate, or one from another CA', async () => {
    const none = await handshake(new TlsDskClientHandshake(clientContext(null), 'pool01.contoso.test'), new TlsDskServerHandshake(serverContext()));
    expect(none.server?.peer).toMatchObject({ authorized: false, certDer: null });
    const foreign = await handshake(new TlsDskClientHandshake(clientContext(stranger), 'pool01.contoso.test'), new TlsDskServerHandshake(serverContext()));
    expect(foreign.server?.peer.authorized).toBe(false);
    expect(foreign.server?.peer.authorizationError).toMatch(/SELF_SIGNED|UNABLE/);
  });

  it('fails on the client when the inner server certificate is not for the targetname', async () => {
    const client = new TlsDskClientHandshake(clientContext(alice), 'other.contoso.test');
    await expect(handshake(client, new TlsDskServerHandshake(serverContext()))).rejects.toThrow(/other\.contoso\.test|altnames/i);
  });
});

/** TLS 1.2's PRF (RFC 5246 §5, P_SHA256), written out here to check the derivation independently. */
function prf12(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const full = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let a = full;
  let size = 0;
  while (size < length) {
    a = createHmac('sha256', secret).update(a).digest();
    const block = createHmac('sha256', secret).update(Buffer.concat([a, full])).digest();
    out.push(block);
    size += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

describe('TLS-DSK key block', () => {
  it('is PRF(master_secret, "client EAP encryption", client_random + server_random): client key bytes 64–95, server key 96–127', async () => {
    const client = new TlsDskClientHandshake(clientContext(alice), 'pool01.contoso.test');
    const server = new TlsDskServerHandshake(serverContext());
    let master: Buffer | null = null;
    // The engine's TLS socket is private; its keylog line reaches us through the test-only hook below.
    (client as unknown as { socket: TLSSocket }).socket.on('keylog', (line: Buffer) => {
      const m = /^CLIENT_RANDOM [0-9a-f]{64} ([0-9a-f]{96})/i.exec(line.toString());
      if (m) master = Buffer.from(m[1]!, 'hex');
    });
    const hello = await client.start();
    const first = await server.next(hello);
    // Random values sit after the record header (5), handshake header (4) and version (2).
    const clientRandom = hello.subarray(11, 43);
    const serverRandom = first.token.subarray(11, 43);
    const second = await server.next(((await client.next(first.token)) as { token: Buffer }).token);
    const done = await client.next(second.token);
    if (done.kind !== 'established' || master === null) throw new Error('handshake did not finish');
    const block = prf12(master, 'client EAP encryption', Buffer.concat([clientRandom, serverRandom]), 128);
    expect(done.keys.clientKey.equals(block.subarray(64, 96))).toBe(true);
    expect(done.keys.serverKey.equals(block.subarray(96, 128))).toBe(true);
  });
});

describe('TlsFlightCollector', () => {
  it('splits records across chunks and ends a flight at ServerHelloDone', () => {
    const c = new TlsFlightCollector();
    const hs = (type: number, len: number) => Buffer.concat([Buffer.from([type, 0, 0, len]), Buffer.alloc(len)]);
    const rec = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type, 3, 3, body.length >> 8, body.length & 255]), body]);
    const bytes = Buffer.concat([rec(22, Buffer.concat([hs(2, 10), hs(11, 20)])), rec(22, hs(14, 0))]);
    expect(c.push(bytes.subarray(0, 7))).toEqual([]);
    const out = c.push(bytes.subarray(7));
    expect(out).toHaveLength(1);
    expect(out[0]!.end).toBe('hello');
    expect(out[0]!.bytes.equals(bytes)).toBe(true);
  });
});
