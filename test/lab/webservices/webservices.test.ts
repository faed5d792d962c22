import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { CERTPROV_PROOF_PATH, PIN_PATH } from '../../../lab/webservices';
import { createTicketStore, xsDateTime } from '../../../lab/webservices/ticket-store';
import { buildGetAndPublishCertRequest, parseGetAndPublishCertResponse } from '../../../common/pool/certprov-wire';
import { NS } from '../../../common/pool/soap-envelope';
import { buildPinSecurity } from '../../../common/pool/webticket-pin';
import { buildTicketSecurity, buildWebTicketRequest, parseWebTicketResponse } from '../../../common/pool/webticket-wire';
import { parseXml } from '../../../common/xml';
import { discoverCertProvAuth } from '../../../main/pool/auth/webticket-discovery';
import { PoolHttpClient } from '../../../main/pool/net/http';
import { createPoolResolver } from '../../../main/pool/net/resolver';
import { makeCsr } from '../../support/csr';
import { tempDir } from '../support';

describe('ticket store', () => {
  it('issues random ids, expires them on time and wipes proof keys', () => {
    let now = Date.parse('2026-11-25T10:00:00.400Z');
    const store = createTicketStore({ lifetimeMs: 3600_000, now: () => now, maxTickets: 3 });
    const a = store.issue({ sipUri: 'sip:a@x', appliesToPath: '/p', clientEntropy: randomBytes(32) });
    const b = store.issue({ sipUri: 'sip:a@x', appliesToPath: '/p', clientEntropy: undefined });
    expect(a.assertionId).not.toBe(b.assertionId);
    expect(a.created).toBe('2026-11-25T10:00:00Z');
    expect(a.expires).toBe('2026-11-25T11:00:00Z');
    expect(a.proofKey?.length).toBe(32);
    expect(b.proofKey).toBeNull();
    expect(store.get(a.assertionId)).toBe(a);
    now += 3600_000;
    expect(store.get(a.assertionId)).toBeUndefined();
    expect(a.proofKey!.every((x) => x === 0)).toBe(true);
    expect(store.get('_nope')).toBeUndefined();
  });

  it('keeps at most maxTickets, dropping the oldest', () => {
    const store = createTicketStore({ lifetimeMs: 60_000, maxTickets: 3 });
    const ids = Array.from({ length: 5 }, () => store.issue({ sipUri: 's', appliesToPath: '/p', clientEntropy: undefined }).assertionId);
    expect(store.size).toBeLessThanOrEqual(3);
    expect(store.get(ids[0]!)).toBeUndefined();
    expect(store.get(ids[4]!)).toBeDefined();
  });

  it('formats xs:dateTime in UTC with whole seconds', () => {
    expect(xsDateTime(Date.parse('2026-01-02T03:04:05.999Z'))).toBe('2026-01-02T03:04:05Z');
  });
});

describe('lab Web Services with every lab service running', () => {
  let tmp: { dir: string; remove: () => void };
  let lab: LabHandle;
  let http: PoolHttpClient;

  beforeAll(async () => {
    tmp = tempDir('tether-websvc-all-');
    lab = await startLab({ stateDir: tmp.dir });
    http = new PoolHttpClient({ resolver: createPoolResolver({ server: lab.dnsServer }), extraCaPems: [lab.ca.rootCertPem], retry: { attempts: 1 } });
  });

  afterAll(async () => {
    http?.close();
    await lab?.stop();
    tmp?.remove();
  });

  const post = (path: string, body: string | Buffer) =>
    http.request({ url: `${lab.context.httpsBase}${path}`, method: 'POST', headers: { 'content-type': 'text/xml' }, body, stage: 'auth', acceptStatus: () => true });

  it('prints its endpoints and serves mex next to the other services', async () => {
    expect(lab.endpoints.certprov).toBe(`${lab.context.httpsBase}/CertProv/CertProvisioningService.svc`);
    expect(lab.endpoints.webticket).toBe(`${lab.context.httpsBase}/WebTicket/WebTicketService.svc`);
    const eps = await discoverCertProvAuth(http, lab.endpoints.certprov as string);
    expect(Object.keys(eps.ports).sort()).toEqual(['negotiate', 'ntlm', 'pin']);
  });

  it('serves nothing of it over plain HTTP', async () => {
    const res = await http.request({ url: `${lab.context.httpBase}${PIN_PATH}`, method: 'POST', body: 'x', stage: 'auth', acceptStatus: () => true });
    expect(res.status).toBe(404);
  });

  it('answers 400 to malformed or hostile XML and 413 to an oversized body', async () => {
    expect((await post(PIN_PATH, '<s:Envelope')).status).toBe(400);
    expect((await post(PIN_PATH, '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')).status).toBe(400);
    expect((await post(CERTPROV_PROOF_PATH, '<x/>')).status).toBe(400);
    expect((await post(PIN_PATH, Buffer.alloc(300 * 1024, 0x20))).status).toBe(413);
  });

  it('accepts a bearer ticket (no entropy) without a signature, but a holder-of-key ticket only when signed', async () => {
    const certprov = `${lab.context.httpsBase}${CERTPROV_PROOF_PATH}`;
    const ticketFor = async (entropy: Buffer | null) => {
      const xml = buildWebTicketRequest({ to: `${lab.context.httpsBase}${PIN_PATH}`, appliesTo: certprov, entropy: entropy ?? Buffer.alloc(0), context: 'c', security: buildPinSecurity({ phoneOrExt: '103', pin: '97531' }) });
      // A request without <wst:Entropy> asks for a bearer ticket.
      const body = entropy === null ? xml.replace(/<wst:Entropy>.*<\/wst:Entropy>/, '') : xml;
      const res = await post(PIN_PATH, body);
      expect(res.status).toBe(200);
      const text = res.body.toString('utf8');
      return parseWebTicketResponse(text, parseXml(text));
    };
    const { csrPem } = makeCsr('sip:carol@contoso.test', 1024);
    const gapc = (security: string) =>
      buildGetAndPublishCertRequest({ to: certprov, security, csrPem, deviceId: 'd', entity: 'carol@contoso.test', requestId: 'r' });

    const bearer = await ticketFor(null);
    expect(bearer.serverEntropy).toBeNull();
    const ok = await post(CERTPROV_PROOF_PATH, gapc(buildTicketSecurity(bearer, null)));
    expect(ok.status).toBe(200);
    expect(parseGetAndPublishCertResponse(parseXml(ok.body)).kind).toBe('issued');

    const entropy = randomBytes(32);
    const hok = await ticketFor(entropy);
    const unsigned = await post(CERTPROV_PROOF_PATH, gapc(buildTicketSecurity(hok, null)));
    expect(unsigned.status).toBe(401);
    expect(String(unsigned.headers['x-ms-diagnostics'])).toMatch(/^28203;/);
    expect(unsigned.headers['x-ms-webticketurl']).toBe(`${lab.context.httpsBase}/WebTicket/WebTicketService.svc`);
    const signed = await post(CERTPROV_PROOF_PATH, gapc(buildTicketSecurity(hok, entropy)));
    expect(signed.status).toBe(200);
    // The Security header the lab read really was namespaced as WS-Security says.
    expect(parseXml(gapc(buildTicketSecurity(hok, entropy))).find(NS.wsse, 'Security')?.child(NS.saml, 'Assertion')).toBeDefined();
  });
});
