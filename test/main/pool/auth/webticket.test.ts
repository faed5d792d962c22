import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCertProvAuth, type CertProvAuthEndpoints } from '../../../../main/pool/auth/webticket-discovery';
import { requestWebTicket } from '../../../../main/pool/auth/webticket';
import { buildOcsDiagnosticsFault } from '../../../../common/pool/soap-envelope';
import { buildCertProvMex } from '../../../../common/pool/webticket-wire';
import type { PoolHttpClient } from '../../../../main/pool/net/http';
import { startWebServicesLab, type WebServicesLab } from '../../../lab/webservices/fixture';

let env: WebServicesLab;
let eps: CertProvAuthEndpoints;

const xml = (status: number, body: string, headers: Record<string, string> = {}) =>
  (_req: unknown, res: ServerResponse) => {
    res.writeHead(status, { 'Content-Type': 'text/xml', ...headers });
    res.end(body);
  };

beforeAll(async () => {
  env = await startWebServicesLab({
    lockoutThreshold: 3,
    testRoutes: {
      '/t/500': xml(500, '<html>oops</html>'),
      '/t/401': xml(401, '', { 'X-Ms-diagnostics': '28020;"pool01.contoso.test";"Invalid credentials";"wsse:FailedAuthentication"' }),
      '/t/fault': xml(500, buildOcsDiagnosticsFault({ faultCode: 'Client', faultString: 'No valid security token', errorId: 28032, reason: 'The web ticket is invalid' })),
      '/t/xxe': xml(200, '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&x;</s:Body></s:Envelope>'),
      '/t/laughs': xml(200, `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>`),
      '/t/notxml': xml(200, 'not xml at all'),
      '/t/html': (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('Welcome to IIS');
      },
    },
  });
  eps = await discoverCertProvAuth(env.http, env.certProvBase);
});

afterAll(async () => {
  await env?.stop();
});

const alice = () => env.lab.users.bySipUri('sip:alice@contoso.test')!;

describe('discovery via mex', () => {
  it('finds the CertProv proof port, the WebTicket service and its PIN port', () => {
    expect(eps.certProvUrl).toBe(`${env.httpsBase}/CertProv/CertProvisioningService.svc/CertProvisioningServiceWebTicketProof_SHA1`);
    expect(eps.webTicketUrl).toBe(`${env.httpsBase}/WebTicket/WebTicketService.svc`);
    expect(eps.ports.pin).toBe(`${env.httpsBase}/WebTicket/WebTicketService.svc/WebTicketServicePin`);
    expect(eps.requiresSigning).toBe(true);
  });
});

describe('PIN web ticket against the lab over HTTPS', () => {
  it('issues a ticket for number + PIN and names the user', async () => {
    const t = await requestWebTicket({ http: env.http, url: eps.ports.pin!, appliesTo: eps.certProvUrl, auth: { kind: 'pin', phoneOrExt: '+1 425 555 0101', pin: '13579' } });
    expect(t.sipUri).toBe('sip:alice@contoso.test');
    expect(t.ticket.serverEntropy?.length).toBe(32);
    expect(t.isExpired()).toBe(false);
    expect(t.isExpired(t.ticket.expiresAt)).toBe(true);
    expect(t.securityHeader()).toContain('<SignatureValue>');
    t.dispose();
    expect(() => t.securityHeader()).toThrow(/disposed/);
  });

  it('accepts the extension too', async () => {
    const t = await requestWebTicket({ http: env.http, url: eps.ports.pin!, appliesTo: eps.certProvUrl, auth: { kind: 'pin', phoneOrExt: '102', pin: '24680' } });
    expect(t.sipUri).toBe('sip:bob@contoso.test');
  });

  it('rejects a bad PIN with a typed error that never carries the PIN', async () => {
    const err = await requestWebTicket({ http: env.http, url: eps.ports.pin!, appliesTo: eps.certProvUrl, auth: { kind: 'pin', phoneOrExt: '103', pin: '11112' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WEBTICKET_PIN_REJECTED', stage: 'auth', detail: { status: 500, errorId: 28100 } });
    expect(JSON.stringify(err)).not.toContain('11112');
    expect((err as Error).message).not.toContain('11112');
    env.lab.users.unlock(env.lab.users.bySipUri('sip:carol@contoso.test')!);
  });

  it('locks the account after N bad PINs; then even the right PIN gets WEBTICKET_ACCOUNT_LOCKED', async () => {
    const ask = (pin: string) =>
      requestWebTicket({ http: env.http, url: eps.ports.pin!, appliesTo: eps.certProvUrl, auth: { kind: 'pin', phoneOrExt: '101', pin } }).catch((e: unknown) => e);
    expect(await ask('00001')).toMatchObject({ code: 'WEBTICKET_PIN_REJECTED' });
    expect(await ask('00002')).toMatchObject({ code: 'WEBTICKET_PIN_REJECTED' });
    expect(await ask('00003')).toMatchObject({ code: 'WEBTICKET_ACCOUNT_LOCKED' }); // the 3rd bad PIN locks
    expect(alice().locked).toBe(true);
    const locked = await ask('13579');
    expect(locked).toMatchObject({ code: 'WEBTICKET_ACCOUNT_LOCKED', stage: 'auth' });
    expect((locked as { cmdlet?: string }).cmdlet).toMatch(/^Test-CsPhoneBootstrap -PhoneOrExt/);
    env.lab.users.unlock(alice());
    expect(await ask('13579')).toMatchObject({ sipUri: 'sip:alice@contoso.test' });
  });

  it('answers WEBTICKET_ACCOUNT_LOCKED for everyone under the account-locked fault', async () => {
    env.lab.context.faults.set('account-locked', true);
    try {
      const err = await requestWebTicket({ http: env.http, url: eps.ports.pin!, appliesTo: eps.certProvUrl, auth: { kind: 'pin', phoneOrExt: '102', pin: '24680' } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'WEBTICKET_ACCOUNT_LOCKED', detail: { errorId: 28101 } });
    } finally {
      env.lab.context.faults.set('account-locked', false);
    }
  });

  it('refuses malformed credentials before sending', async () => {
    await expect(requestWebTicket({ http: env.http, url: eps.ports.pin!, appliesTo: eps.certProvUrl, auth: { kind: 'pin', phoneOrExt: '101', pin: 'abcd' } })).rejects.toMatchObject({ code: 'BAD_INPUT', stage: 'auth' });
  });

  it('refuses a ticket for a service the pool does not know', async () => {
    const err = await requestWebTicket({ http: env.http, url: eps.ports.pin!, appliesTo: `${env.httpsBase}/Other.svc`, auth: { kind: 'pin', phoneOrExt: '102', pin: '24680' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WEBTICKET_REFUSED', detail: { errorId: 28104 } });
  });
});

describe('NTLM web ticket against the lab over HTTPS (NTLMv2 verified for real)', () => {
  const ntlm = (url: string, password: string, sipUri = 'sip:alice@contoso.test', username = 'alice') =>
    requestWebTicket({ http: env.http, url, appliesTo: eps.certProvUrl, sipUri, auth: { kind: 'ntlm', domain: 'CONTOSO', username, password } });

  it('issues a ticket on the WinNtlm and WinNegotiate ports', async () => {
    expect(eps.ports.ntlm).toBe(`${env.httpsBase}/WebTicket/WebTicketService.svc/WebTicketServiceWinNtlm`);
    const t = await ntlm(eps.ports.ntlm!, 'Lab-Alice-2026!');
    expect(t.sipUri).toBe('sip:alice@contoso.test');
    expect(t.ticket.subject).toBe('sip:alice@contoso.test');
    const n = await ntlm(eps.ports.negotiate!, 'Lab-Alice-2026!');
    expect(n.ticket.assertionId).not.toBe(t.ticket.assertionId);
  });

  it('rejects a wrong password with NTLM_REJECTED (stage auth), without the password in the error', async () => {
    const err = await ntlm(eps.ports.ntlm!, 'Wrong-Password-1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NTLM_REJECTED', stage: 'auth' });
    expect(JSON.stringify(err)).not.toContain('Wrong-Password-1');
  });

  it('refuses a ticket for another SIP user than the Windows account', async () => {
    const err = await ntlm(eps.ports.ntlm!, 'Lab-Bob-2026!', 'sip:alice@contoso.test', 'bob').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WEBTICKET_REFUSED', detail: { errorId: 28103 } });
  });

  it('needs the SIP address for Windows sign-in', async () => {
    await expect(
      requestWebTicket({ http: env.http, url: eps.ports.ntlm!, appliesTo: eps.certProvUrl, auth: { kind: 'ntlm', domain: 'CONTOSO', username: 'alice', password: 'x' } }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT', stage: 'auth' });
  });
});

describe('credentials go only to https', () => {
  it('sends no PIN and no NTLM handshake to an http Web Ticket address', async () => {
    let requests = 0;
    const plain = createServer((_req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/WebTicket/WebTicketService.svc/WebTicketServicePin`;
      const pin = await requestWebTicket({ http: env.http, url, appliesTo: eps.certProvUrl, auth: { kind: 'pin', phoneOrExt: '101', pin: '13579' } }).catch((e: unknown) => e);
      expect(pin).toMatchObject({ code: 'WEBTICKET_NOT_HTTPS', stage: 'auth' });
      expect(JSON.stringify(pin)).not.toContain('13579');
      const win = await requestWebTicket({
        http: env.http,
        url,
        appliesTo: eps.certProvUrl,
        sipUri: 'sip:alice@contoso.test',
        auth: { kind: 'ntlm', domain: 'CONTOSO', username: 'alice', password: 'Lab-Alice-2026!' },
      }).catch((e: unknown) => e);
      expect(win).toMatchObject({ code: 'WEBTICKET_NOT_HTTPS', stage: 'auth' });
      expect(requests).toBe(0);
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  it('refuses a CertProv mex that points the PIN or the ticket at an http address', async () => {
    // Only the CertProv mex is asked for: the refusal comes before anything else is sent.
    const answering = (webTicketUrl: string, proofPortUrl: string) => {
      const asked: string[] = [];
      const http = {
        request: (req: { url: string | URL }) => {
          asked.push(String(req.url));
          return Promise.resolve({ status: 200, headers: {}, body: Buffer.from(buildCertProvMex({ webTicketUrl, proofPortUrl })) });
        },
      } as unknown as PoolHttpClient;
      return { http, asked };
    };
    const plainTicket = answering('http://pool01.contoso.test/WebTicket/WebTicketService.svc', 'https://pool01.contoso.test/CertProv/x');
    expect(await discoverCertProvAuth(plainTicket.http, 'https://pool01.contoso.test/CertProv/CertProvisioningService.svc').catch((e: unknown) => e)).toMatchObject({
      code: 'WEBTICKET_NOT_HTTPS',
      stage: 'auth',
    });
    expect(plainTicket.asked).toHaveLength(1);
    const plainCertProv = answering('https://pool01.contoso.test/WebTicket/WebTicketService.svc', 'http://pool01.contoso.test/CertProv/x');
    expect(await discoverCertProvAuth(plainCertProv.http, 'https://pool01.contoso.test/CertProv/CertProvisioningService.svc').catch((e: unknown) => e)).toMatchObject({
      code: 'CERTPROV_NOT_HTTPS',
      stage: 'certificate',
    });
  });
});

describe('WebTicket failures map to typed errors', () => {
  const at = (path: string) =>
    requestWebTicket({ http: env.http, url: `${env.httpsBase}${path}`, appliesTo: eps.certProvUrl, auth: { kind: 'pin', phoneOrExt: '101', pin: '13579' } }).catch((e: unknown) => e);

  it('HTTP 500 without diagnostics → WEBTICKET_SERVICE_ERROR', async () => {
    expect(await at('/t/500')).toMatchObject({ code: 'WEBTICKET_SERVICE_ERROR', stage: 'auth', detail: { status: 500 } });
  });
  it('HTTP 401 with X-Ms-diagnostics → WEBTICKET_PIN_REJECTED with the error id', async () => {
    expect(await at('/t/401')).toMatchObject({ code: 'WEBTICKET_PIN_REJECTED', detail: { status: 401, errorId: 28020, reason: 'Invalid credentials' } });
  });
  it('SOAP fault with OCSDiagnosticsFault → WEBTICKET_REFUSED carrying ErrorId and Reason', async () => {
    const err = await at('/t/fault');
    expect(err).toMatchObject({ code: 'WEBTICKET_REFUSED', detail: { errorId: 28032, reason: 'The web ticket is invalid', fault: 'No valid security token' } });
    expect((err as Error).message).toContain('The web ticket is invalid');
  });
  it('hostile XML (XXE, entity expansion) is refused by the safe parser', async () => {
    expect(await at('/t/xxe')).toMatchObject({ code: 'XML_DTD_FORBIDDEN', stage: 'auth' });
    expect(await at('/t/laughs')).toMatchObject({ code: 'XML_DTD_FORBIDDEN', stage: 'auth' });
  });
  it('a 200 that is not SOAP → WEBTICKET_BAD_RESPONSE, or XML_MALFORMED when it claims to be XML', async () => {
    expect(await at('/t/html')).toMatchObject({ code: 'WEBTICKET_BAD_RESPONSE', stage: 'auth' });
    expect(await at('/t/notxml')).toMatchObject({ code: 'XML_MALFORMED', stage: 'auth' });
  });
  it('HTTP 403 when PIN sign-in is disabled → WEBTICKET_METHOD_DISABLED', async () => {
    const off = await startWebServicesLab({ usePinAuth: false });
    try {
      const e = await discoverCertProvAuth(off.http, off.certProvBase);
      const err = await requestWebTicket({ http: off.http, url: e.ports.pin!, appliesTo: e.certProvUrl, auth: { kind: 'pin', phoneOrExt: '101', pin: '13579' } }).catch((x: unknown) => x);
      expect(err).toMatchObject({ code: 'WEBTICKET_METHOD_DISABLED', detail: { status: 403, errorId: 28102 } });
    } finally {
      await off.stop();
    }
  });
  it('HTTP 403 when Windows sign-in is disabled → NTLM_NOT_OFFERED', async () => {
    const off = await startWebServicesLab({ useWindowsAuth: false });
    try {
      const e = await discoverCertProvAuth(off.http, off.certProvBase);
      const err = await requestWebTicket({ http: off.http, url: e.ports.ntlm!, appliesTo: e.certProvUrl, sipUri: 'sip:alice@contoso.test', auth: { kind: 'ntlm', domain: 'CONTOSO', username: 'alice', password: 'Lab-Alice-2026!' } }).catch((x: unknown) => x);
      expect(err).toMatchObject({ code: 'NTLM_NOT_OFFERED', stage: 'auth', detail: { status: 403 } });
    } finally {
      await off.stop();
    }
  });
});
