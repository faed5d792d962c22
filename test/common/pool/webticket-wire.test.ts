import { describe, expect, it } from 'vitest';
import { NS, formatMsDiagnostics, buildOcsDiagnosticsFault } from '../../../common/pool/soap-envelope';
import { buildPinSecurity, readPinCredentials, validatePinCredentials } from '../../../common/pool/webticket-pin';
import {
  CLAIMS_DIALECT,
  CLAIM_TYPE_URI,
  SOAP_ACTION_RST_ISSUE,
  TOKEN_TYPE_SAML11,
  buildCertProvMex,
  buildTicketSecurity,
  buildWebTicketMex,
  buildWebTicketRequest,
  buildWebTicketResponse,
  parseCertProvMex,
  parseWebTicketRequest,
  parseWebTicketResponse,
  portLocations,
  readPresentedTicket,
} from '../../../common/pool/webticket-wire';
import { deriveProofKey, verifyTimestampSignature } from '../../../common/pool/wss-proof';
import { parseXml, type XmlElement } from '../../../common/xml';
import { TetherError } from '../../../common/errors';

const certprov = 'https://pool01.contoso.test/CertProv/CertProvisioningService.svc/WebTicket_Proof';
const webticket = 'https://pool01.contoso.test/WebTicket/WebTicketService.svc/WebTicketServicePin';
const entropy = Buffer.alloc(32, 0x11);
const serverEntropy = Buffer.alloc(32, 0x22);

describe('WebTicket RST', () => {
  const xml = buildWebTicketRequest({
    to: webticket,
    appliesTo: certprov,
    sipUri: 'sip:alice@contoso.test',
    entropy,
    context: 'uuid-1',
    security: buildPinSecurity({ phoneOrExt: '+1 (425) 555-0101', pin: '123456' }),
  });

  it('uses the documented element names, namespaces and values', () => {
    const env = parseXml(xml);
    expect(env.ns).toBe(NS.soap);
    expect(env.path([NS.soap, 'Header'], [NS.wsa, 'Action'])?.text).toBe(SOAP_ACTION_RST_ISSUE);
    const rst = env.path([NS.soap, 'Body'], [NS.wst, 'RequestSecurityToken'])!;
    expect(rst.child(NS.wst, 'TokenType')?.text).toBe(TOKEN_TYPE_SAML11);
    expect(rst.child(NS.wst, 'Claims')?.attr('Dialect')).toBe(CLAIMS_DIALECT);
    expect(rst.path([NS.wst, 'Claims'], [NS.auth, 'ClaimType'])?.attr('Uri')).toBe(CLAIM_TYPE_URI);
    expect(rst.child(NS.wst, 'KeyType')?.text).toBe('http://docs.oasis-open.org/ws-sx/ws-trust/200512/SymmetricKey');
  });

  it('round-trips through the lab-side parser, PIN token included', () => {
    const parsed = parseWebTicketRequest(parseXml(xml));
    expect(parsed).toMatchObject({ to: webticket, appliesTo: certprov, sipUri: 'sip:alice@contoso.test', context: 'uuid-1' });
    expect(parsed.entropy).toEqual(entropy);
    expect(readPinCredentials(parsed.security!)).toEqual({ phoneOrExt: '+14255550101', pin: '123456' });
  });

  it('the lab-side parser also takes an RST without a SOAP header, as SIPE sends it on the NTLM port', () => {
    const bare = buildWebTicketRequest({ to: webticket, appliesTo: certprov, sipUri: 'sip:alice@contoso.test', entropy, context: 'uuid-2', security: null }).replace(
      /<soap:Header>.*<\/soap:Header>/s,
      '',
    );
    expect(bare).not.toContain('Header');
    expect(parseWebTicketRequest(parseXml(bare))).toMatchObject({ appliesTo: certprov, sipUri: 'sip:alice@contoso.test', context: 'uuid-2', security: undefined });
  });

  it('escapes hostile values instead of injecting markup', () => {
    const evil = buildWebTicketRequest({ to: webticket, appliesTo: certprov, sipUri: 'sip:a"</auth:Value><x/>@b', entropy, context: 'c"', security: null });
    expect(parseWebTicketRequest(parseXml(evil)).sipUri).toBe('sip:a"</auth:Value><x/>@b');
  });

  it('rejects malformed PIN credentials before anything is sent', () => {
    expect(() => validatePinCredentials({ phoneOrExt: 'abc', pin: '1234' })).toThrow(TetherError);
    expect(() => validatePinCredentials({ phoneOrExt: '101', pin: '12' })).toThrow(/4 to 24 digits/);
    expect(() => validatePinCredentials({ phoneOrExt: '101', pin: '12a4' })).toThrow(TetherError);
  });
});

describe('WebTicket RSTR and the signed Timestamp', () => {
  const grant = {
    context: 'uuid-1',
    assertionId: '_a1b2',
    issuer: webticket,
    sipUri: 'sip:alice@contoso.test',
    appliesTo: certprov,
    created: '2026-11-25T10:00:00Z',
    expires: '2026-11-25T18:00:00Z',
    serverEntropy,
  };
  const raw = buildWebTicketResponse(grant);

  it('parses the ticket, lifetime and server entropy, keeping the assertion bytes', () => {
    const t = parseWebTicketResponse(raw, parseXml(raw));
    expect(t).toMatchObject({ assertionId: '_a1b2', created: grant.created, expires: grant.expires });
    expect(t.expiresAt).toBe(Date.parse(grant.expires));
    expect(t.serverEntropy).toEqual(serverEntropy);
    expect(raw).toContain(t.assertionXml);
    expect(parseXml(t.assertionXml).attr('AssertionID')).toBe('_a1b2');
  });

  it('declares an inherited assertion prefix in the cut-out snippet', () => {
    const inherited = raw
      .replace('<s:Envelope ', `<s:Envelope xmlns:saml="${NS.saml}" `)
      .replace(`<saml:Assertion xmlns:saml="${NS.saml}" `, '<saml:Assertion ');
    const t = parseWebTicketResponse(inherited, parseXml(inherited));
    expect(parseXml(t.assertionXml).ns).toBe(NS.saml);
  });

  it('signs the Timestamp so the issuer can verify it with the same proof key', () => {
    const t = parseWebTicketResponse(raw, parseXml(raw));
    const security = buildTicketSecurity(t, entropy);
    const header = parseXml(`<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}">${security}</wsse:Security>`);
    const presented = readPresentedTicket(header)!;
    expect(presented.assertionId).toBe('_a1b2');
    expect(presented.signature?.keyIdentifier).toBe('_a1b2');
    const key = deriveProofKey(entropy, serverEntropy);
    expect(verifyTimestampSignature(key, { ...presented.timestamp!, ...presented.signature! })).toBe('ok');
    expect(verifyTimestampSignature(deriveProofKey(Buffer.alloc(32, 9), serverEntropy), { ...presented.timestamp!, ...presented.signature! })).toBe('bad-signature');
  });

  it('turns a response without ticket, lifetime or with bad entropy into WEBTICKET_BAD_RESPONSE', () => {
    const cases = [
      raw.replace(/<wst:RequestedSecurityToken>[\s\S]*<\/wst:RequestedSecurityToken>/, ''),
      raw.replace(/<wst:Lifetime>[\s\S]*<\/wst:Lifetime>/, ''),
      raw.replace(/(<wst:Entropy><wst:BinarySecret>)[^<]*/, '$1not*base64'),
      raw.replace('2026-11-25T18:00:00Z</wsu:Expires>', 'tomorrow</wsu:Expires>'),
      raw.replace('AssertionID="_a1b2"', ''),
    ];
    for (const c of cases) {
      expect(() => parseWebTicketResponse(c, parseXml(c))).toThrow(expect.objectContaining({ code: 'WEBTICKET_BAD_RESPONSE', stage: 'auth' }));
    }
  });
});

describe('hostile WebTicket values', () => {
  const base = { context: 'uuid-1', assertionId: '_a1', issuer: webticket, sipUri: 'sip:alice@contoso.test', appliesTo: certprov, serverEntropy };

  it('refuses a Lifetime that Date.parse reads but is not xs:dateTime (markup smuggled into our next request)', () => {
    // Date.parse ignores parenthesised text, so this "date" would have passed a Date.parse-only check.
    const smuggled = '2026-11-25 (</wsu:Created><evil/>)';
    expect(Number.isFinite(Date.parse(smuggled))).toBe(true);
    const raw = buildWebTicketResponse({ ...base, created: smuggled, expires: '2026-11-25T18:00:00Z' });
    expect(() => parseWebTicketResponse(raw, parseXml(raw))).toThrow(expect.objectContaining({ code: 'WEBTICKET_BAD_RESPONSE', stage: 'auth' }));
  });

  it('refuses a response whose first <saml:Assertion text is not the parsed assertion', () => {
    const raw = buildWebTicketResponse({ ...base, created: '2026-11-25T10:00:00Z', expires: '2026-11-25T18:00:00Z' });
    // A comment ahead of the real assertion: cutting by text would send the comment's markup on.
    const decoy = raw.replace('<wst:RequestSecurityTokenResponse', '<!-- <saml:Assertion AssertionID="_x"><evil/></saml:Assertion> --><wst:RequestSecurityTokenResponse');
    expect(() => parseWebTicketResponse(decoy, parseXml(decoy))).toThrow(expect.objectContaining({ code: 'WEBTICKET_BAD_RESPONSE', stage: 'auth' }));
  });

  it('accepts xs:dateTime with a fraction and an offset', () => {
    const raw = buildWebTicketResponse({ ...base, created: '2026-11-25T10:00:00.123+01:00', expires: '2026-11-25T18:00:00.5Z' });
    expect(parseWebTicketResponse(raw, parseXml(raw)).created).toBe('2026-11-25T10:00:00.123+01:00');
  });

  it('escapes the Lifetime when presenting a ticket without a proof key', () => {
    const security = buildTicketSecurity(
      { assertionXml: '<a/>', assertionId: '_a1', created: 'x</wsu:Created><evil/>', expires: '2026-11-25T18:00:00Z', expiresAt: 0, serverEntropy: null, subject: undefined },
      null,
    );
    const header = parseXml(`<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}">${security}</wsse:Security>`);
    expect(header.find(NS.wsu, 'Created')?.text).toBe('x</wsu:Created><evil/>');
    expect(header.find('', 'evil')).toBeUndefined();
  });

  it('refuses a control character in a value rather than writing XML no parser accepts', () => {
    expect(() => buildWebTicketRequest({ to: webticket, appliesTo: certprov, sipUri: 'sip:a\u0001@b', entropy, context: 'c', security: null })).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
  });
});

describe('mex documents', () => {
  it('point from CertProv to the WebTicket issuer and its ports', () => {
    const mex = parseCertProvMex(parseXml(buildCertProvMex({ webTicketUrl: 'https://p/WebTicket/WebTicketService.svc', proofPortUrl: certprov })));
    expect(mex).toEqual({ webTicketUrl: 'https://p/WebTicket/WebTicketService.svc', certProvUrl: certprov, requiresSigning: true });
    const ports = portLocations(parseXml(buildWebTicketMex([{ name: 'WebTicketServicePin', location: webticket }])));
    expect(ports.get('webticketservicepin')).toBe(webticket);
    expect(() => parseCertProvMex(parseXml(buildWebTicketMex([])))).toThrow(expect.objectContaining({ code: 'WEBTICKET_BAD_RESPONSE' }));
  });

  it('declare every prefix they use, in element names and in QName attribute values (binding, type, message, element)', () => {
    const docs = [
      buildCertProvMex({ webTicketUrl: 'https://p/WebTicket/WebTicketService.svc', proofPortUrl: certprov }),
      buildWebTicketMex([{ name: 'WebTicketServicePin', location: webticket }, { name: 'WebTicketServiceWinNtlm', location: webticket }]),
    ];
    for (const doc of docs) {
      // parseXml already refuses an unbound prefix on an element or attribute name.
      const root = parseXml(doc);
      const qnames: string[] = [];
      const visit = (el: XmlElement): void => {
        for (const a of el.attributes) if (['binding', 'type', 'message', 'element'].includes(a.local) && a.value.includes(':')) qnames.push(`${a.value.split(':')[0]!}@${el.local}`);
        for (const prefix of qnames.splice(0).map((q) => q.split('@')[0]!)) {
          let bound = false;
          for (let at: XmlElement | null = el; at && !bound; at = at.parent) bound = at.attributes.some((x) => x.prefix === 'xmlns' && x.local === prefix);
          expect(bound, `prefix ${prefix} in <${el.name}>`).toBe(true);
        }
        el.children.forEach(visit);
      };
      visit(root);
      expect(doc).toContain('binding="tns:');
    }
  });
});

describe('diagnostics', () => {
  it('formats X-Ms-diagnostics in the documented shape and builds an OCSDiagnosticsFault', () => {
    expect(formatMsDiagnostics(28020, 'pool01.contoso.test', 'Invalid "PIN"', 'wsse:FailedAuthentication')).toBe(
      '28020;"pool01.contoso.test";"Invalid  PIN ";"wsse:FailedAuthentication"',
    );
    const fault = parseXml(buildOcsDiagnosticsFault({ faultCode: 'Client', faultString: 'x', errorId: 7, reason: 'r' }));
    const d = fault.find(NS.af, 'Ms-Diagnostics-Fault')!;
    expect(d.child(NS.af, 'ErrorId')?.text).toBe('7');
    expect(d.child(NS.af, 'Reason')?.text).toBe('r');
  });
});
