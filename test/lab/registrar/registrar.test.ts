import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildRegister,
  header,
  newRegisterIds,
  parseSipMessage,
  serializeSipMessage,
  SipStreamDecoder,
  type SipMessage,
  type SipRequest,
} from '../../../common/pool/sip';
import { startLab, type LabHandle } from '../../../lab';
import { certificateSipUris } from '../../../lab/registrar/handler';
import { createRegistrarService } from '../../../lab/registrar/service';
import { tempDir } from '../support';
import { makeCsr } from '../../support/csr';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
let port: number;
let alice: { sipUri: string; certPem: string; keyPem: string };

function enrol(sipUri: string) {
  const { csrPem, keyPem } = makeCsr(sipUri);
  return { sipUri, keyPem, certPem: lab.context.ca.issueFromCsr(csrPem, sipUri, 24) };
}

beforeAll(async () => {
  tmp = tempDir();
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), services: [createRegistrarService({ minPinLength: 6, idleMs: 5000 })] });
  port = Number(lab.endpoints.registrarPort);
  alice = enrol(lab.context.users.all()[0]!.sipUri);
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

/** A raw TLS connection to the registrar that collects what it answers until it closes. */
function open(withCert = true): Promise<{ socket: TLSSocket; messages: SipMessage[]; closed: Promise<void>; next: () => Promise<SipMessage> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: lab.context.poolFqdn,
      ca: lab.context.ca.chainPems(),
      ...(withCert ? { cert: alice.certPem, key: alice.keyPem } : {}),
    });
    const messages: SipMessage[] = [];
    const waiters: (() => void)[] = [];
    const decoder = new SipStreamDecoder();
    socket.on('data', (c: Buffer) => {
      messages.push(...decoder.push(c));
      for (const w of waiters.splice(0)) w();
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    let taken = 0;
    const next = async (): Promise<SipMessage> => {
      while (messages.length <= taken) await new Promise<void>((r) => waiters.push(r));
      return messages[taken++]!;
    };
    socket.once('secureConnect', () => resolve({ socket, messages, closed, next }));
    socket.once('error', reject);
  });
}

function register(sipUri = alice.sipUri): SipRequest {
  return buildRegister({ sipUri, local: { host: '127.0.0.1', port: 5555 }, ids: newRegisterIds() });
}

describe('lab registrar over raw TLS', () => {
  it('answers several requests on one connection, skipping keep-alive CRLFs', async () => {
    const c = await open();
    const first = register();
    const options: SipRequest = { ...register(), method: 'OPTIONS', headers: register().headers.map((h) => (h.name === 'CSeq' ? { name: 'CSeq', value: '1 OPTIONS' } : h)) };
    c.socket.write(Buffer.concat([Buffer.from('\r\n\r\n'), serializeSipMessage(first), serializeSipMessage(options)]));
    const a = await c.next();
    const b = await c.next();
    expect(a.kind === 'response' && a.status).toBe(200);
    expect(header(a, 'Call-ID')).toBe(header(first, 'Call-ID'));
    expect(header(a, 'To')).toMatch(/;tag=lab[0-9a-f]+$/);
    expect(new TextDecoder().decode(a.body)).toContain('<property name="ucminpinlength">6</property>');
    expect(b.kind === 'response' && b.status).toBe(405);
    expect(header(b, 'Allow')).toBe('REGISTER');
    c.socket.end();
  });

  it('refuses registering another user (From differs from To) with 403', async () => {
    const c = await open();
    const req = register();
    const forged: SipRequest = { ...req, headers: req.headers.map((h) => (h.name === 'From' ? { name: 'From', value: `<sip:bob@${lab.context.domain}>;tag=x` } : h)) };
    c.socket.write(serializeSipMessage(forged));
    const res = await c.next();
    expect(res.kind === 'response' && res.status).toBe(403);
    c.socket.end();
  });

  it('answers a REGISTER without From/To with 400', async () => {
    const c = await open();
    const req = register();
    c.socket.write(serializeSipMessage({ ...req, headers: req.headers.filter((h) => h.name !== 'From') }));
    const res = await c.next();
    expect(res.kind === 'response' && res.status).toBe(400);
    c.socket.end();
  });

  it('drops a connection that sends garbage or an oversize head, and keeps serving others', async () => {
    const bad = await open();
    bad.socket.write('GARBAGE\r\n\r\n');
    await bad.closed;
    expect(bad.messages).toEqual([]);
    const big = await open();
    big.socket.write('REGISTER sip:x SIP/2.0\r\nX: ' + 'a'.repeat(20_000));
    await big.closed;
    const good = await open(false);
    good.socket.write(serializeSipMessage(register()));
    const res = await good.next();
    expect(res.kind === 'response' && res.status).toBe(401);
    good.socket.end();
  });

  it("delays its answers by slowMs under 'slow-responses', in request order, and not otherwise", async () => {
    // Long enough that a loaded machine cannot blur "delayed" and "not delayed".
    const slowMs = 800;
    const faults = lab.context.faults;
    const previous = faults.slowMs;
    faults.slowMs = slowMs;
    const c = await open();
    const timed = async (req: SipRequest) => {
      const t = performance.now();
      c.socket.write(serializeSipMessage(req));
      const res = await c.next();
      return { res, ms: performance.now() - t };
    };
    try {
      expect((await timed(register())).ms).toBeLessThan(slowMs / 2);
      faults.set('slow-responses', true);
      const first = register();
      const second = register();
      const t = performance.now();
      c.socket.write(Buffer.concat([serializeSipMessage(first), serializeSipMessage(second)]));
      const a = await c.next();
      const b = await c.next();
      expect(performance.now() - t).toBeGreaterThanOrEqual(slowMs - 5);
      expect([header(a, 'Call-ID'), header(b, 'Call-ID')]).toEqual([header(first, 'Call-ID'), header(second, 'Call-ID')]);
      expect(a.kind === 'response' && a.status).toBe(200);
      faults.set('slow-responses', false);
      expect((await timed(register())).ms).toBeLessThan(slowMs / 2);
    } finally {
      faults.set('slow-responses', false);
      faults.slowMs = previous;
      c.socket.end();
    }
  });

  it('drops a delayed answer when the client leaves, without an error', async () => {
    const faults = lab.context.faults;
    const previous = faults.slowMs;
    faults.slowMs = 200;
    faults.set('slow-responses', true);
    try {
      const gone = await open();
      gone.socket.write(serializeSipMessage(register()));
      gone.socket.destroy();
      await gone.closed;
      const c = await open();
      const t = performance.now();
      c.socket.write(serializeSipMessage(register()));
      expect((await c.next()).kind).toBe('response');
      expect(performance.now() - t).toBeGreaterThanOrEqual(195);
      c.socket.end();
    } finally {
      faults.set('slow-responses', false);
      faults.slowMs = previous;
    }
  });

  it('reads the SIP URI from the SAN of a lab-issued certificate', () => {
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(alice.certPem))).getBytes(), 'binary');
    expect(certificateSipUris(der)).toEqual([alice.sipUri]);
  });

  it('serialises what it parses (sanity of the wire form)', () => {
    const req = register();
    expect(parseSipMessage(serializeSipMessage(req)).headers.length).toBe(req.headers.length + 1);
  });
});
