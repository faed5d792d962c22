import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcsDiagnosticsFault } from '../../../../common/pool/soap-envelope';
import { discoverCertProvAuth, type CertProvAuthEndpoints } from '../../../../main/pool/auth/webticket-discovery';
import { requestWebTicket, type IssuedWebTicket } from '../../../../main/pool/auth/webticket';
import { getAndPublishCert, provisionCertificate } from '../../../../main/pool/certprov';
import { makeCsr, makeHostileCsr } from '../../../support/csr';
import { openssl, tempDir, writeFiles } from '../../../lab/support';
import { startWebServicesLab, type WebServicesLab } from '../../../lab/webservices/fixture';

let env: WebServicesLab;
let eps: CertProvAuthEndpoints;
let labClock = Date.now();
const phone = makeCsr('sip:alice@contoso.test', 2048);
const deviceId = '6f1c2d3e-4a5b-4c6d-8e7f-000000000001';

/** `openssl req -verify` with stdout and stderr together. */
function reqVerify(file: string, cwd: string): string {
  const r = spawnSync('openssl', ['req', '-in', file, '-noout', '-verify'], { cwd, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

/** Flips one bit inside the CSR's signed body, so its self-signature no longer verifies. */
function tamperCsr(pem: string): string {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
  const der = Buffer.from(b64, 'base64');
  der[der.length - 1] = der[der.length - 1]! ^ 0x01; // the last byte of the signature
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

const answer = (status: number, body: string, type = 'text/xml') => (_req: unknown, res: ServerResponse) => {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
};

beforeAll(async () => {
  env = await startWebServicesLab({
    now: () => labClock,
    testRoutes: {
      '/c/403': answer(403, 'Forbidden', 'text/plain'),
      '/c/500': answer(500, 'Internal Server Error', 'text/plain'),
      '/c/fault': answer(500, buildOcsDiagnosticsFault({ faultCode: 'Server', faultString: 'Server unavailable', errorId: 28300, reason: 'CA unreachable' })),
      '/c/xxe': answer(200, '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'),
    },
  });
  eps = await discoverCertProvAuth(env.http, env.certProvBase);
});

afterAll(async () => {
  await env?.stop();
});

const pinTicket = (phoneOrExt = '101', pin = '13579') =>
  requestWebTicket({ http: env.http, url: eps.ports.pin!, appliesTo: eps.certProvUrl, auth: { kind: 'pin', phoneOrExt, pin } });

const publish = (ticket: IssuedWebTicket, extra: Partial<Parameters<typeof getAndPublishCert>[0]> = {}) =>
  getAndPublishCert({ http: env.http, url: eps.certProvUrl, ticket, csrPem: phone.csrPem, deviceId, entity: ticket.sipUri!, ...extra });

describe('PIN → web ticket → GetAndPublishCert over HTTPS against the lab', () => {
  it('issues a certificate OpenSSL verifies, with the CSR\'s key, and publishes it', async () => {
    const ticket = await pinTicket();
    const before = env.lab.users.bySipUri('sip:alice@contoso.test')!.published.length;
    const issued = await publish(ticket);
    ticket.dispose();

    const leaf = new X509Certificate(issued.certificatePem);
    expect(leaf.subject).toBe('CN=sip:alice@contoso.test');
    expect(issued.chainPems.map((p) => new X509Certificate(p).fingerprint256)).toEqual([
      new X509Certificate(env.lab.ca.intermediateCertPem).fingerprint256,
      new X509Certificate(env.lab.ca.rootCertPem).fingerprint256,
    ]);
    const user = env.lab.users.bySipUri('sip:alice@contoso.test')!;
    expect(user.published.length).toBe(before + 1);
    expect(new X509Certificate(user.published.at(-1)!).fingerprint256).toBe(leaf.fingerprint256);

    const tmp = tempDir('tether-certprov-');
    try {
      writeFiles(tmp.dir, { 'root.pem': issued.chainPems[1]!, 'inter.pem': issued.chainPems[0]!, 'leaf.pem': issued.certificatePem, 'req.pem': phone.csrPem });
      const verify = openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'inter.pem', 'leaf.pem'], tmp.dir);
      expect(verify.out).toContain('leaf.pem: OK');
      expect(verify.ok).toBe(true);
      // OpenSSL 3.0 `req -verify` exits 0 either way and reports on stderr; a tampered copy must fail.
      expect(reqVerify('req.pem', tmp.dir)).toMatch(/self-signature verify OK/);
      writeFiles(tmp.dir, { 'bad.pem': tamperCsr(phone.csrPem) });
      expect(reqVerify('bad.pem', tmp.dir)).not.toMatch(/verify OK/);
      const leafKey = openssl(['x509', '-in', 'leaf.pem', '-noout', '-pubkey'], tmp.dir);
      const reqKey = openssl(['req', '-in', 'req.pem', '-noout', '-pubkey'], tmp.dir);
      expect(leafKey.ok && reqKey.ok).toBe(true);
      expect(leafKey.out).toBe(reqKey.out);
      expect(leafKey.out.trim()).toBe(phone.publicKeyPem.trim());
    } finally {
      tmp.remove();
    }
  });

  it('NTLM → ticket → certificate for the Windows user', async () => {
    const carol = makeCsr('sip:carol@contoso.test', 2048);
    const ticket = await requestWebTicket({
      http: env.http,
      url: eps.ports.ntlm!,
      appliesTo: eps.certProvUrl,
      sipUri: 'sip:carol@contoso.test',
      auth: { kind: 'ntlm', domain: 'contoso.test', username: 'carol', password: 'Lab-Carol-2026!' },
    });
    const issued = await publish(ticket, { csrPem: carol.csrPem, entity: 'sip:carol@contoso.test' });
    const leaf = new X509Certificate(issued.certificatePem);
    expect(leaf.subject).toBe('CN=sip:carol@contoso.test');
    expect(leaf.publicKey.export({ type: 'spki', format: 'pem' })).toBe(carol.publicKeyPem);
    expect(leaf.verify(new X509Certificate(env.lab.ca.intermediateCertPem).publicKey)).toBe(true);
    ticket.dispose();
  });

  it('publish-store-unavailable → CERTPROV_PUBLISH_FAILED ("data store unavailable"), nothing published', async () => {
    const ticket = await pinTicket('102', '24680');
    const user = env.lab.users.bySipUri('sip:bob@contoso.test')!;
    const before = user.published.length;
    env.lab.context.faults.set('publish-store-unavailable', true);
    try {
      const err = await publish(ticket).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CERTPROV_PUBLISH_FAILED', stage: 'certificate', detail: { errorCode: 'PublishFailed' } });
      expect((err as Error).message).toContain('data store unavailable');
      expect((err as { cmdlet?: string }).cmdlet).toMatch(/Test-CsPhoneBootstrap -PhoneOrExt .* -PIN .* -UserSipAddress/);
      expect(env.lab.users.bySipUri('sip:bob@contoso.test')!.published.length).toBe(before);
    } finally {
      env.lab.context.faults.set('publish-store-unavailable', false);
    }
    expect((await publish(ticket)).certificatePem).toContain('BEGIN CERTIFICATE');
    expect(user.published.length).toBe(before + 1);
  });

  it('refuses a certificate for another user than the ticket\'s (ErrorInfo → CERTPROV_REQUEST_REJECTED)', async () => {
    const ticket = await pinTicket('102', '24680');
    await expect(publish(ticket, { entity: 'alice@contoso.test' })).rejects.toMatchObject({ code: 'CERTPROV_REQUEST_REJECTED', detail: { errorCode: 'EntityMismatch' } });
  });

  it('rejects a tampered proof-of-possession signature, a missing ticket and an expired one (401 → CERTPROV_TICKET_REJECTED)', async () => {
    const ticket = await pinTicket();
    const tampered: IssuedWebTicket = { ...ticket, securityHeader: () => ticket.securityHeader().replace(/<SignatureValue>[^<]+/, '<SignatureValue>AAAAAAAAAAAAAAAAAAAAAAAAAAA=') };
    await expect(publish(tampered)).rejects.toMatchObject({ code: 'CERTPROV_TICKET_REJECTED', detail: { status: 401, errorId: 28203 } });

    const anonymous: IssuedWebTicket = { ...ticket, securityHeader: () => '' };
    const err = await publish(anonymous).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CERTPROV_TICKET_REJECTED', detail: { status: 401, errorId: 28200, webTicketUrl: eps.webTicketUrl } });

    labClock += 9 * 3600_000; // past the lab's 8-hour ticket lifetime
    try {
      await expect(publish(ticket)).rejects.toMatchObject({ code: 'CERTPROV_TICKET_REJECTED', detail: { errorId: 28201 } });
    } finally {
      labClock = Date.now();
    }
    // The client refuses a ticket it knows has expired, without a round trip.
    await expect(publish(ticket, { now: () => ticket.ticket.expiresAt + 1 })).rejects.toMatchObject({ code: 'CERTPROV_TICKET_REJECTED' });
  });

  it('refuses an invalid CSR before sending it', async () => {
    const ticket = await pinTicket();
    await expect(publish(ticket, { csrPem: tamperCsr(phone.csrPem) })).rejects.toMatchObject({ code: 'BAD_INPUT', stage: 'certificate' });
    await expect(publish(ticket, { csrPem: 'hello' })).rejects.toMatchObject({ code: 'BAD_INPUT', stage: 'certificate' });
  });

  it('bounds the CSR key before checking its signature (a huge exponent would hold the event loop)', async () => {
    const ticket = await pinTicket();
    const hostile = makeHostileCsr({ exponent: 2n ** 2048n + 1n });
    await expect(publish(ticket, { csrPem: hostile })).rejects.toMatchObject({ code: 'BAD_INPUT', stage: 'certificate', detail: { problem: 'exponent' } });
    await expect(publish(ticket, { csrPem: tamperCsr(phone.csrPem) })).rejects.toMatchObject({ detail: { problem: 'signature' } });
  });
});

describe('provisionCertificate (stages 7 and 8 in one call)', () => {
  it('discovers, signs in with PIN, makes the CSR once the user is known, and reports the stages in order', async () => {
    const stages: string[] = [];
    const subjects: string[] = [];
    const r = await provisionCertificate({
      http: env.http,
      certProvBase: env.certProvBase,
      auth: { kind: 'pin', phoneOrExt: '+14255550101', pin: '13579' },
      csr: (sipUri) => {
        subjects.push(sipUri);
        return phone.csrPem;
      },
      deviceId,
      onStage: (s) => stages.push(s),
    });
    expect(stages).toEqual(['auth', 'certificate']);
    expect(subjects).toEqual(['sip:alice@contoso.test']);
    expect(r).toMatchObject({ sipUri: 'sip:alice@contoso.test', method: 'pin' });
    expect(r.endpoints.certProvUrl).toBe(eps.certProvUrl);
    expect(new X509Certificate(r.certificatePem).checkIssued(new X509Certificate(env.lab.ca.intermediateCertPem))).toBe(true);
  });

  it('keeps each failure in its own stage', async () => {
    const stage7 = await provisionCertificate({ http: env.http, certProvBase: env.certProvBase, auth: { kind: 'pin', phoneOrExt: '102', pin: '11111' }, csr: phone.csrPem, deviceId }).catch((e: unknown) => e);
    expect(stage7).toMatchObject({ code: 'WEBTICKET_PIN_REJECTED', stage: 'auth' });
    env.lab.users.unlock(env.lab.users.bySipUri('sip:bob@contoso.test')!);
    env.lab.context.faults.set('publish-store-unavailable', true);
    try {
      const stage8 = await provisionCertificate({ http: env.http, certProvBase: env.certProvBase, auth: { kind: 'pin', phoneOrExt: '102', pin: '24680' }, csr: phone.csrPem, deviceId }).catch((e: unknown) => e);
      expect(stage8).toMatchObject({ code: 'CERTPROV_PUBLISH_FAILED', stage: 'certificate' });
    } finally {
      env.lab.context.faults.set('publish-store-unavailable', false);
    }
  });
});

describe('CertProv failures map to typed errors', () => {
  const at = async (path: string) => publish(await pinTicket(), { url: `${env.httpsBase}${path}` }).catch((e: unknown) => e);

  it('403 → CERTPROV_REQUEST_REJECTED', async () => {
    expect(await at('/c/403')).toMatchObject({ code: 'CERTPROV_REQUEST_REJECTED', stage: 'certificate', detail: { status: 403 } });
  });
  it('500 → CERTPROV_SERVICE_ERROR', async () => {
    expect(await at('/c/500')).toMatchObject({ code: 'CERTPROV_SERVICE_ERROR', detail: { status: 500 } });
  });
  it('SOAP fault with OCSDiagnosticsFault → CERTPROV_SERVICE_ERROR with ErrorId and Reason', async () => {
    const err = await at('/c/fault');
    expect(err).toMatchObject({ code: 'CERTPROV_SERVICE_ERROR', detail: { errorId: 28300, reason: 'CA unreachable' } });
    expect((err as Error).message).toContain('CA unreachable');
  });
  it('XXE in the response is refused by the safe parser', async () => {
    expect(await at('/c/xxe')).toMatchObject({ code: 'XML_DTD_FORBIDDEN', stage: 'certificate' });
  });
  it('never sends the ticket to an http address', async () => {
    const ticket = await pinTicket();
    const plain = env.httpsBase.replace(/^https:/, 'http:');
    const err = await publish(ticket, { url: `${plain}/CertProv/CertProvisioningService.svc/CertProvisioningServiceWebTicketProof_SHA1` }).catch((e: unknown) => e);
    ticket.dispose();
    expect(err).toMatchObject({ code: 'CERTPROV_NOT_HTTPS', stage: 'certificate' });
    expect(JSON.stringify(err)).not.toContain(ticket.ticket.assertionId);
  });
});
