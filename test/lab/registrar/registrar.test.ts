import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createSecureContext, type TLSSocket } from 'node:tls';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  buildRegister,
  header,
  newRegisterIds,
  parseSipMessage,
  serializeSipMessage,
  SipStreamDecoder,
  TLS_DSK_INNER_TLS,
  TlsDskClientAuth,
  type SipMessage,
  type SipRequest,
  type TlsDskCredential,
} from '../../../common/pool/sip';
import { startLab, type LabHandle } from '../../../lab';
import { CA_FILES, openLabCa } from '../../../lab/ca/ca';
import { buildCert, toPem } from '../../../lab/ca/forge-cert';
import { certificateSipUris } from '../../../lab/registrar/handler';
import { createRegistrarService } from '../../../lab/registrar/service';
import { tempDir } from '../support';
import { fakeTimeouts, untilTimerCount } from '../../support/fake-timers';
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

type Credential = { certPem: string; keyPem: string };

/** A raw TLS connection to the registrar (server-authenticated only) that collects what it answers. */
function open(outerCert?: Credential): Promise<{ socket: TLSSocket; messages: SipMessage[]; closed: Promise<void>; next: () => Promise<SipMessage> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: lab.context.poolFqdn,
      ca: lab.context.ca.chainPems(),
      ...(outerCert ? { cert: outerCert.certPem, key: outerCert.keyPem } : {}),
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

/** What a TLS-DSK client presents inside: a certificate and key (or none), and the TLS versions it offers. */
function tlsDskCredential(cred: Credential | null, extra: { minVersion?: 'TLSv1'; maxVersion?: 'TLSv1'; ciphers?: string } = {}): TlsDskCredential {
  const context = createSecureContext({ ...(cred ? { cert: cred.certPem, key: cred.keyPem } : {}), ca: lab.context.ca.chainPems(), ...TLS_DSK_INNER_TLS, ...extra });
  return { secureContext: () => context, certificateDer: new X509Certificate((cred ?? alice).certPem).raw };
}

/**
 * Signs in on an open connection with TLS-DSK as a client does (MS-SIPAE): REGISTER, answer each
 * 401 with the next inner-TLS flight, sign the REGISTER after it. Returns the registrar's last
 * answer (the 401 that ended the handshake, or the final answer to the signed REGISTER).
 * `edit` changes every REGISTER before it is signed; `tamper` changes the signed one.
 */
async function signIn(
  c: Awaited<ReturnType<typeof open>>,
  credential: TlsDskCredential,
  sipUri = alice.sipUri,
  hooks: { edit?: (req: SipRequest) => SipRequest; tamper?: (req: SipRequest) => SipRequest } = {},
): Promise<SipMessage> {
  const auth = new TlsDskClientAuth(credential, 'lab');
  const ids = newRegisterIds();
  let authorize: ((req: SipRequest) => SipRequest) | null = null;
  for (let cseq = 1; cseq < 10; cseq++) {
    let req = buildRegister({ sipUri, local: { host: '127.0.0.1', port: 5555 }, ids, cseq });
    if (hooks.edit) req = hooks.edit(req);
    if (authorize) req = authorize(req);
    if (auth.established && hooks.tamper) req = hooks.tamper(req);
    c.socket.write(serializeSipMessage(req));
    const res = await c.next();
    if (res.kind !== 'response' || res.status !== 401) {
      // Every answer to a signed REGISTER carries the registrar's valid signature.
      if (auth.established && res.kind === 'response') expect(auth.verify(res)).toBeNull();
      return res;
    }
    const step = await auth.answer(res);
    if ('error' in step) return res;
    authorize = step.authorize;
  }
  throw new Error('no final answer');
}

/** Opens a connection, signs in with TLS-DSK presenting `cred` (false: no certificate) and returns the answer. */
async function registerAs(cred: Credential | false, sipUri = alice.sipUri): Promise<SipMessage> {
  const c = await open();
  try {
    return await signIn(c, tlsDskCredential(cred === false ? null : cred), sipUri);
  } finally {
    c.socket.end();
  }
}

const statusOf = (m: SipMessage) => (m.kind === 'response' ? m.status : null);

/** A certificate signed by the lab's real intermediate, with whatever names the test wants. */
function forgeLabCert(names: { cn: string; sanUris: string[] }): Credential {
  const dir = join(lab.context.stateDir, 'ca');
  const issuer = {
    cert: forge.pki.certificateFromPem(readFileSync(join(dir, CA_FILES.intermediateCert), 'utf8')),
    key: forge.pki.privateKeyFromPem(readFileSync(join(dir, CA_FILES.intermediateKey), 'utf8')) as forge.pki.rsa.PrivateKey,
  };
  const { csrPem, keyPem } = makeCsr(names.cn);
  const cert = buildCert({
    subject: [{ shortName: 'CN', value: names.cn }],
    publicKey: forge.pki.certificationRequestFromPem(csrPem).publicKey!,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 3_600_000),
    issuer,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
      ...(names.sanUris.length > 0 ? [{ name: 'subjectAltName', altNames: names.sanUris.map((value) => ({ type: 6, value })) }] : []),
    ],
  });
  return { certPem: toPem(cert), keyPem };
}

describe('lab registrar: who gets 200', () => {
  it('registers alice with her own lab-issued certificate (the control case)', async () => {
    expect(statusOf(await registerAs(alice))).toBe(200);
  });

  it('answers an expired lab-issued certificate with 401, not 200', async () => {
    // The lab's own CA files, with a clock 3 days back: a 24 h certificate that ended 2 days ago.
    const past = await openLabCa({ dir: join(lab.context.stateDir, 'ca'), domain: lab.context.domain, now: () => new Date(Date.now() - 3 * 86_400_000) });
    expect(past.rootFingerprint).toBe(lab.endpoints.ca.fingerprint);
    const { csrPem, keyPem } = makeCsr(alice.sipUri);
    const res = await registerAs({ certPem: past.issueFromCsr(csrPem, alice.sipUri, 24), keyPem });
    expect(statusOf(res)).toBe(401);
    expect(header(res, 'WWW-Authenticate')).toContain('sts-uri=');
  });

  it('answers a certificate from a recreated lab CA (same names, new keys) with 401, with or without its chain', async () => {
    const other = tempDir();
    try {
      const recreated = await openLabCa({ dir: other.dir, domain: lab.context.domain });
      expect(recreated.rootFingerprint).not.toBe(lab.endpoints.ca.fingerprint);
      expect(new X509Certificate(recreated.intermediateCertPem).subject).toBe(new X509Certificate(lab.context.ca.intermediateCertPem).subject);
      const { csrPem, keyPem } = makeCsr(alice.sipUri);
      const certPem = recreated.issueFromCsr(csrPem, alice.sipUri, 24);
      expect(statusOf(await registerAs({ certPem, keyPem }))).toBe(401);
      const chained = { certPem: certPem.trimEnd() + '\n' + recreated.intermediateCertPem, keyPem };
      expect(statusOf(await registerAs(chained))).toBe(401);
    } finally {
      other.remove();
    }
  });

  it("refuses the lab's own server certificate (it chains, but names no SIP user) with 403", async () => {
    const server = lab.context.tls.current();
    expect(statusOf(await registerAs({ certPem: server.cert, keyPem: server.key }))).toBe(403);
  });

  it('takes the SAN over the CN: SAN bob with CN alice cannot register alice', async () => {
    const bobUri = lab.context.users.all()[1]!.sipUri;
    const mixed = forgeLabCert({ cn: alice.sipUri, sanUris: [bobUri] });
    const res = await registerAs(mixed);
    expect(statusOf(res)).toBe(403);
    expect(header(res, 'ms-diagnostics')).toContain('another user');
    expect(statusOf(await registerAs(mixed, bobUri))).toBe(200);
    // A SAN URI that is not a SIP URI still means the CN is not consulted.
    expect(statusOf(await registerAs(forgeLabCert({ cn: alice.sipUri, sanUris: ['https://contoso.test/alice'] })))).toBe(403);
    // Without any SAN URI the CN names the user (certificates made before the SAN was added).
    expect(statusOf(await registerAs(forgeLabCert({ cn: alice.sipUri, sanUris: [] })))).toBe(200);
  });

  it('keeps verifying client certificates after a certificate fault renews its TLS context', async () => {
    // The client trusts the intermediate itself, so the handshake works with the fault on.
    lab.context.faults.set('intermediate-missing', true);
    try {
      expect(statusOf(await registerAs(alice))).toBe(200);
      expect(statusOf(await registerAs(false))).toBe(401);
    } finally {
      lab.context.faults.set('intermediate-missing', false);
    }
    expect(statusOf(await registerAs(alice))).toBe(200);
  });

  it('refuses a user locked by bad PINs (not only by the fault) with 403, and registers again once unlocked', async () => {
    const users = lab.context.users;
    const user = users.bySipUri(alice.sipUri)!;
    try {
      for (let i = 0; i < 10 && !users.isLocked(user); i++) users.checkPin(user, 'not-the-pin');
      expect(users.isLocked(user)).toBe(true);
      const res = await registerAs(alice);
      expect(statusOf(res)).toBe(403);
      expect(header(res, 'ms-diagnostics')).toContain('locked');
    } finally {
      users.unlock(user);
    }
    expect(statusOf(await registerAs(alice))).toBe(200);
  });
});

describe('lab registrar: TLS-DSK (MS-SIPAE) as built', () => {
  const diagnosticOf = (m: SipMessage) => header(m, 'ms-diagnostics') ?? '';

  it("challenges with one WWW-Authenticate per protocol it supports: TLS-DSK with realm, targetname, version and sts-uri", async () => {
    const c = await open();
    c.socket.write(serializeSipMessage(register()));
    const res = await c.next();
    c.socket.end();
    expect(statusOf(res)).toBe(401);
    const challenges = res.headers.filter((h) => h.name.toLowerCase() === 'www-authenticate').map((h) => h.value);
    expect(challenges).toEqual([
      `TLS-DSK realm="SIP Communications Service", targetname="${lab.context.poolFqdn}", version=4, sts-uri="${lab.context.httpsBase}/CertProv/CertProvisioningService.svc"`,
    ]);
  });

  it('ignores a certificate in the outer TLS: without TLS-DSK the answer is 401 (no mutual-TLS sign-in)', async () => {
    const c = await open(alice);
    c.socket.write(serializeSipMessage(register()));
    expect(statusOf(await c.next())).toBe(401);
    c.socket.end();
  });

  it('registers alice over TLS-DSK in two handshake round trips, and signs the 200 (rspauth checked by the helper)', async () => {
    const c = await open();
    const res = await signIn(c, tlsDskCredential(alice));
    c.socket.end();
    expect(statusOf(res)).toBe(200);
    expect(c.messages.map(statusOf)).toEqual([401, 401, 401, 200]);
    expect(header(res, 'Authentication-Info')).toMatch(/^TLS-DSK qop="auth", opaque="[0-9A-F]{8}", srand="[0-9A-F]{8}", snum="1", rspauth="[0-9a-f]{40}", realm="SIP Communications Service", targetname="[^"]+", version=4$/);
  });

  it('answers a client whose inner TLS offers only TLS 1.0 (as SIPE does) with 401 and ms-diagnostics 1010', async () => {
    const c = await open();
    // This client stands for SIPE, not Tether: it lowers its own security level to send TLS 1.0.
    const res = await signIn(c, tlsDskCredential(alice, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:@SECLEVEL=0' }));
    c.socket.end();
    expect(statusOf(res)).toBe(401);
    expect(diagnosticOf(res)).toMatch(/^1010;reason="TLS-DSK handshake failed: .*(protocol|version)/i);
  });

  it('answers a handshake without a client certificate with 401 and ms-diagnostics 1005', async () => {
    const res = await registerAs(false);
    expect(statusOf(res)).toBe(401);
    expect(diagnosticOf(res)).toMatch(/^1005;reason="No client certificate in the TLS-DSK handshake"/);
    expect(header(res, 'WWW-Authenticate')).toContain('sts-uri=');
  });

  it('answers a certificate from another CA with 401 and ms-diagnostics 1006 (not trusted)', async () => {
    const stranger = tempDir();
    try {
      const other = await openLabCa({ dir: stranger.dir, domain: lab.context.domain });
      const { csrPem, keyPem } = makeCsr(alice.sipUri);
      const res = await registerAs({ certPem: other.issueFromCsr(csrPem, alice.sipUri, 24), keyPem });
      expect(statusOf(res)).toBe(401);
      expect(diagnosticOf(res)).toMatch(/^1006;reason="The client certificate is not trusted \(/);
    } finally {
      stranger.remove();
    }
  });

  it("answers another user's certificate with 403 and ms-diagnostics 1002", async () => {
    const bob = enrol(lab.context.users.all()[1]!.sipUri);
    const res = await registerAs(bob, alice.sipUri);
    expect(statusOf(res)).toBe(403);
    expect(diagnosticOf(res)).toMatch(/^1002;reason="The client certificate was issued to another user"/);
  });

  it('answers a signed REGISTER whose signature does not match with 401 and ms-diagnostics 1007', async () => {
    const c = await open();
    // Changing Expires after signing: the buffer the registrar rebuilds no longer matches `response`.
    const tamper = (req: SipRequest): SipRequest => ({ ...req, headers: req.headers.map((h) => (h.name === 'Expires' ? { name: 'Expires', value: '60' } : h)) });
    const res = await signIn(c, tlsDskCredential(alice), alice.sipUri, { tamper });
    c.socket.end();
    expect(statusOf(res)).toBe(401);
    expect(diagnosticOf(res)).toMatch(/^1007;/);
  });

  it('answers an opaque it never issued with 401 and ms-diagnostics 1008', async () => {
    const c = await open();
    const req = register();
    const forged: SipRequest = {
      ...req,
      headers: [...req.headers, { name: 'Authorization', value: `TLS-DSK qop="auth", opaque="DEADBEEF", realm="SIP Communications Service", targetname="${lab.context.poolFqdn}", crand="00000000", cnum="1", response="00"` }],
    };
    c.socket.write(serializeSipMessage(forged));
    const res = await c.next();
    c.socket.end();
    expect(statusOf(res)).toBe(401);
    expect(diagnosticOf(res)).toMatch(/^1008;/);
  });
});

describe('lab registrar over raw TLS', () => {
  it('answers several requests on one connection, skipping keep-alive CRLFs', async () => {
    const c = await open();
    const a = await signIn(c, tlsDskCredential(alice));
    const options: SipRequest = { ...register(), method: 'OPTIONS', headers: register().headers.map((h) => (h.name === 'CSeq' ? { name: 'CSeq', value: '1 OPTIONS' } : h)) };
    c.socket.write(Buffer.concat([Buffer.from('\r\n\r\n'), serializeSipMessage(options)]));
    const b = await c.next();
    expect(a.kind === 'response' && a.status).toBe(200);
    expect(header(a, 'To')).toMatch(/;tag=lab[0-9a-f]+$/);
    expect(new TextDecoder().decode(a.body)).toContain('<property name="ucminpinlength">6</property>');
    expect(b.kind === 'response' && b.status).toBe(405);
    expect(header(b, 'Allow')).toBe('REGISTER');
    c.socket.end();
  });

  it('refuses registering another user (From differs from To) with 403, even when signed', async () => {
    const c = await open();
    const forgeFrom = (req: SipRequest): SipRequest => ({ ...req, headers: req.headers.map((h) => (h.name === 'From' ? { name: 'From', value: `<sip:bob@${lab.context.domain}>;tag=x` } : h)) });
    const res = await signIn(c, tlsDskCredential(alice), alice.sipUri, { edit: forgeFrom });
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
    const good = await open();
    good.socket.write(serializeSipMessage(register()));
    const res = await good.next();
    expect(res.kind === 'response' && res.status).toBe(401);
    good.socket.end();
  });

  it("delays its answers by slowMs under 'slow-responses', in request order, and not otherwise", async () => {
    // The delay is seen as a timer the registrar sets and the test releases, never as elapsed time.
    const slowMs = 800;
    const faults = lab.context.faults;
    const previous = faults.slowMs;
    faults.slowMs = slowMs;
    const c = await open();
    fakeTimeouts();
    try {
      c.socket.write(serializeSipMessage(register()));
      expect((await c.next()).kind).toBe('response');
      expect(vi.getTimerCount()).toBe(0);
      faults.set('slow-responses', true);
      const first = register();
      const second = register();
      c.socket.write(Buffer.concat([serializeSipMessage(first), serializeSipMessage(second)]));
      // One timer at a time: the second answer's delay starts when the first answer has gone.
      await untilTimerCount(1);
      vi.advanceTimersByTime(slowMs - 1);
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(1);
      const a = await c.next();
      await untilTimerCount(1);
      vi.advanceTimersByTime(slowMs);
      const b = await c.next();
      expect([header(a, 'Call-ID'), header(b, 'Call-ID')]).toEqual([header(first, 'Call-ID'), header(second, 'Call-ID')]);
      expect(a.kind === 'response' && a.status).toBe(401);
      faults.set('slow-responses', false);
      c.socket.write(serializeSipMessage(register()));
      expect((await c.next()).kind).toBe('response');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
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
    const gone = await open();
    fakeTimeouts();
    try {
      gone.socket.write(serializeSipMessage(register()));
      await untilTimerCount(1);
      gone.socket.destroy();
      await gone.closed;
      // The registrar cleared the pending answer's timer when the connection closed.
      await untilTimerCount(0);
      const c = await open();
      c.socket.write(serializeSipMessage(register()));
      await untilTimerCount(1);
      vi.advanceTimersByTime(200);
      expect((await c.next()).kind).toBe('response');
      c.socket.end();
    } finally {
      vi.useRealTimers();
      faults.set('slow-responses', false);
      faults.slowMs = previous;
    }
  });

  it('drops a request it cannot answer (a header it cannot echo back) without crashing, and keeps serving', async () => {
    const bad = await open();
    // A NUL on a folded header line gets past the decoder (common/pool/sip/codec.ts checks only the
    // first line of a header), and serialising the echoed Via refuses it.
    const text = new TextDecoder().decode(serializeSipMessage(register())).replace(/^Via: SIP\/2\.0\/TLS /m, 'Via:\r\n \0SIP/2.0/TLS ');
    expect(text).toContain('\0');
    bad.socket.write(text);
    await bad.closed;
    expect(bad.messages).toEqual([]);
    expect(statusOf(await registerAs(alice))).toBe(200);
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
