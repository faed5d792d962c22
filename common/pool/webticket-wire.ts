import { TetherError } from '../errors';
import type { XmlElement } from '../xml/element';
import { NS, buildEnvelope, buildResponseEnvelope } from './soap-envelope';
import { escapeXml } from '../xml/escape';
import { parseXml } from '../xml/parse';
import { NS_DS, TIMESTAMP_ID, deriveProofKey, signTimestamp } from './wss-proof';

/**
 * The WebTicket service's wire form (docs/pool/certprov.md §WebTicket): a WS-Trust 1.3
 * RequestSecurityToken for a SAML 1.1 token that applies to the CertProv endpoint, with a Claims
 * element naming the SIP URI and 256 bits of client entropy; the answer is an RSTR collection with
 * the ticket (saml:Assertion), its Lifetime and the server entropy [S28c][S29 sipe-svc.c,
 * sipe-webticket.c]. Also the mex (WSDL) documents that point a client from CertProv to WebTicket.
 * Pure builders and parsers, shared by the client (main/pool/auth) and the lab.
 */

export const SOAP_ACTION_RST_ISSUE = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue';
export const ACTION_RSTRC_ISSUE_FINAL = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal';
export const REQUEST_TYPE_ISSUE = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue';
export const TOKEN_TYPE_SAML11 = 'http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1';
export const KEY_TYPE_SYMMETRIC = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/SymmetricKey';
export const COMPUTED_KEY_PSHA1 = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/CK/PSHA1';
export const CLAIMS_DIALECT = 'urn:component:Microsoft.Rtc.WebAuthentication.2010:authclaims';
export const CLAIM_TYPE_URI = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/uri';
export const SAML_ASSERTION_ID_TYPE = 'http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID';
export const CM_HOLDER_OF_KEY = 'urn:oasis:names:tc:SAML:1.0:cm:holder-of-key';

/** Port names in the mex documents [S29 sipe-webticket.c, sipe-certificate.c][S30]. */
export const PORT_CERTPROV_PROOF = 'CertProvisioningServiceWebTicketProof_SHA1';
export const POLICY_CERTPROV_PROOF = `${PORT_CERTPROV_PROOF}_policy`;
export const PORT_WIN_NEGOTIATE = 'WebTicketServiceWinNegotiate';
export const PORT_WIN_NTLM = 'WebTicketServiceWinNtlm';

const NS_WSDL = 'http://schemas.xmlsoap.org/wsdl/';
const NS_WSDL_SOAP = 'http://schemas.xmlsoap.org/wsdl/soap/';
const NS_SP = 'http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702';
/**
 * targetNamespace of the mex WSDLs, bound to `tns:` for the port bindings' QNames. OUR MODEL: WCF's
 * default (a service that sets none publishes this); clients look ports up by name, not by it.
 */
const NS_TNS = 'http://tempuri.org/';

/**
 * Diagnostic ids the lab's WebTicket service sends (X-Ms-diagnostics and OCSDiagnosticsFault).
 * OUR MODEL: the real ids are in MS-OCER §7.22, which our sources do not reproduce [S28b], so the
 * client also maps by HTTP status, fault code and reason text (docs/pool/webticket-pin.md).
 */
export const WEBTICKET_ERROR_IDS = {
  badCredentials: 28100,
  accountLocked: 28101,
  methodDisabled: 28102,
  unknownUser: 28103,
  unknownAppliesTo: 28104,
} as const;

/** A protocol violation in a WebTicket or mex document, as a typed error of the auth stage. */
function malformed(what: string): TetherError {
  return new TetherError('WEBTICKET_BAD_RESPONSE', `Malformed web ticket message: ${what}.`, { detail: { what } });
}

// ---------------------------------------------------------------- request (client → WebTicket)

export interface WebTicketRequest {
  /** The WebTicket port URL POSTed to (wsa:To). */
  readonly to: string;
  /** The service the ticket is for: the CertProv endpoint (wsp:AppliesTo). */
  readonly appliesTo: string;
  /**
   * `sip:user@domain` for the Claims. Omitted in OUR PIN model, where the phone knows only its
   * number and PIN: the server then names the user in the ticket (WebTicket.subject).
   */
  readonly sipUri?: string;
  /** Client entropy, 32 bytes (SIPE sends 256 bits). */
  readonly entropy: Uint8Array;
  /** RST Context attribute (a UUID). */
  readonly context: string;
  /** Inner XML of wsse:Security (the PIN token), or null (NTLM authenticates at the HTTP layer). */
  readonly security: string | null;
}

export function buildWebTicketRequest(r: WebTicketRequest): string {
  const body =
    `<wst:RequestSecurityToken Context="${escapeXml(r.context)}">` +
    `<wst:TokenType>${TOKEN_TYPE_SAML11}</wst:TokenType>` +
    `<wst:RequestType>${REQUEST_TYPE_ISSUE}</wst:RequestType>` +
    `<wsp:AppliesTo><wsa:EndpointReference><wsa:Address>${escapeXml(r.appliesTo)}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>` +
    (r.sipUri === undefined
      ? ''
      : `<wst:Claims Dialect="${CLAIMS_DIALECT}">` +
        `<auth:ClaimType Uri="${CLAIM_TYPE_URI}" Optional="false"><auth:Value>${escapeXml(r.sipUri)}</auth:Value></auth:ClaimType>` +
        `</wst:Claims>`) +
    `<wst:Entropy><wst:BinarySecret>${Buffer.from(r.entropy).toString('base64')}</wst:BinarySecret></wst:Entropy>` +
    `<wst:KeyType>${KEY_TYPE_SYMMETRIC}</wst:KeyType>` +
    `</wst:RequestSecurityToken>`;
  return buildEnvelope({ to: r.to, action: SOAP_ACTION_RST_ISSUE, security: r.security, body });
}

export interface ParsedWebTicketRequest {
  readonly to: string | undefined;
  readonly action: string | undefined;
  readonly context: string | undefined;
  readonly tokenType: string | undefined;
  readonly appliesTo: string;
  /** The claimed SIP URI, when the request carries one. */
  readonly sipUri: string | undefined;
  readonly entropy: Buffer | undefined;
  /** The wsse:Security header element, when present (holds the PIN token in our model). */
  readonly security: XmlElement | undefined;
}

/** Reads an RST envelope (lab side). Throws WEBTICKET_BAD_REQUEST-shaped errors via `bad`. */
export function parseWebTicketRequest(envelope: XmlElement): ParsedWebTicketRequest {
  const bad = (what: string) => new TetherError('BAD_INPUT', `Malformed RequestSecurityToken: ${what}.`, { stage: 'auth', detail: { what } });
  if (envelope.ns !== NS.soap || envelope.local !== 'Envelope') throw bad('not a SOAP 1.1 envelope');
  const header = envelope.child(NS.soap, 'Header');
  const rst = envelope.child(NS.soap, 'Body')?.child(NS.wst, 'RequestSecurityToken');
  if (!rst) throw bad('no RequestSecurityToken in the body');
  const appliesTo = rst.path([NS.wsp, 'AppliesTo'], [NS.wsa, 'EndpointReference'], [NS.wsa, 'Address'])?.text.trim();
  if (!appliesTo) throw bad('no AppliesTo address');
  let sipUri: string | undefined;
  const claims = rst.child(NS.wst, 'Claims');
  if (claims) {
    for (const claim of claims.childrenNamed(NS.auth, 'ClaimType')) {
      if (claim.attr('Uri') === CLAIM_TYPE_URI) sipUri = claim.child(NS.auth, 'Value')?.text.trim();
    }
  }
  const secret = rst.path([NS.wst, 'Entropy'], [NS.wst, 'BinarySecret'])?.text.trim();
  return {
    to: header?.child(NS.wsa, 'To')?.text.trim(),
    action: header?.child(NS.wsa, 'Action')?.text.trim(),
    context: rst.attr('Context'),
    tokenType: rst.child(NS.wst, 'TokenType')?.text.trim(),
    appliesTo,
    sipUri,
    entropy: secret === undefined ? undefined : strictBase64(secret, bad),
    security: header?.child(NS.wsse, 'Security'),
  };
}

// ---------------------------------------------------------------- response (WebTicket → client)

export interface WebTicketGrant {
  readonly context: string | undefined;
  /** Random AssertionID; the lab's ticket store is keyed by it. */
  readonly assertionId: string;
  /** The issuing WebTicket URL. */
  readonly issuer: string;
  readonly sipUri: string;
  readonly appliesTo: string;
  /** xs:dateTime, UTC, whole seconds. */
  readonly created: string;
  readonly expires: string;
  /** Server entropy for the PSHA1 computed key; null = a bearer ticket (no proof key). */
  readonly serverEntropy: Uint8Array | null;
}

/** The RSTR collection carrying a SAML 1.1 ticket (lab side). The assertion content is OUR MODEL. */
export function buildWebTicketResponse(g: WebTicketGrant): string {
  const assertion =
    `<saml:Assertion xmlns:saml="${NS.saml}" MajorVersion="1" MinorVersion="1" AssertionID="${escapeXml(g.assertionId)}"` +
    ` Issuer="${escapeXml(g.issuer)}" IssueInstant="${escapeXml(g.created)}">` +
    `<saml:Conditions NotBefore="${escapeXml(g.created)}" NotOnOrAfter="${escapeXml(g.expires)}">` +
    `<saml:AudienceRestrictionCondition><saml:Audience>${escapeXml(g.appliesTo)}</saml:Audience></saml:AudienceRestrictionCondition>` +
    `</saml:Conditions>` +
    `<saml:AuthenticationStatement AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:unspecified" AuthenticationInstant="${escapeXml(g.created)}">` +
    `<saml:Subject><saml:NameIdentifier>${escapeXml(g.sipUri)}</saml:NameIdentifier>` +
    `<saml:SubjectConfirmation><saml:ConfirmationMethod>${CM_HOLDER_OF_KEY}</saml:ConfirmationMethod></saml:SubjectConfirmation>` +
    `</saml:Subject></saml:AuthenticationStatement>` +
    `</saml:Assertion>`;
  const proof =
    g.serverEntropy === null
      ? ''
      : `<wst:RequestedProofToken><wst:ComputedKey>${COMPUTED_KEY_PSHA1}</wst:ComputedKey></wst:RequestedProofToken>` +
        `<wst:Entropy><wst:BinarySecret>${Buffer.from(g.serverEntropy).toString('base64')}</wst:BinarySecret></wst:Entropy>`;
  const body =
    `<wst:RequestSecurityTokenResponseCollection xmlns:wst="${NS.wst}" xmlns:wsu="${NS.wsu}" xmlns:wsp="${NS.wsp}" xmlns:wsa="${NS.wsa}">` +
    `<wst:RequestSecurityTokenResponse${g.context === undefined ? '' : ` Context="${escapeXml(g.context)}"`}>` +
    `<wst:TokenType>${TOKEN_TYPE_SAML11}</wst:TokenType>` +
    `<wst:RequestedSecurityToken>${assertion}</wst:RequestedSecurityToken>` +
    proof +
    `<wst:Lifetime><wsu:Created>${escapeXml(g.created)}</wsu:Created><wsu:Expires>${escapeXml(g.expires)}</wsu:Expires></wst:Lifetime>` +
    `<wsp:AppliesTo><wsa:EndpointReference><wsa:Address>${escapeXml(g.appliesTo)}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>` +
    `<wst:KeyType>${KEY_TYPE_SYMMETRIC}</wst:KeyType>` +
    `</wst:RequestSecurityTokenResponse></wst:RequestSecurityTokenResponseCollection>`;
  return buildResponseEnvelope(body, ACTION_RSTRC_ISSUE_FINAL);
}

/** A web ticket as the client holds it. The assertion is opaque and kept byte for byte. */
export interface WebTicket {
  /** The saml:Assertion exactly as the server sent it (namespace of its prefix made explicit). */
  readonly assertionXml: string;
  readonly assertionId: string;
  readonly created: string;
  readonly expires: string;
  /** Milliseconds since the epoch of `expires`. */
  readonly expiresAt: number;
  /** Server entropy when the ticket has a PSHA1 computed proof key. */
  readonly serverEntropy: Buffer | null;
  /** The user the ticket names (saml Subject/NameIdentifier), when readable. */
  readonly subject: string | undefined;
}

/**
 * Reads the RSTR(C) from the WebTicket service. `raw` is the exact text `envelope` was parsed from:
 * the assertion is cut out of it unchanged (as SIPE does), so a real server's signature over it
 * survives; re-serialising the tree could change it.
 */
export function parseWebTicketResponse(raw: string, envelope: XmlElement): WebTicket {
  if (envelope.ns !== NS.soap || envelope.local !== 'Envelope') throw malformed('not a SOAP 1.1 envelope');
  const body = envelope.child(NS.soap, 'Body');
  if (!body) throw malformed('no SOAP Body');
  const rstr = body.find(NS.wst, 'RequestSecurityTokenResponse');
  if (!rstr) throw malformed('no RequestSecurityTokenResponse');
  const assertion = rstr.child(NS.wst, 'RequestedSecurityToken')?.child(NS.saml, 'Assertion');
  if (!assertion) throw malformed('no saml:Assertion in RequestedSecurityToken');
  const assertionId = assertion.attr('AssertionID');
  if (!assertionId) throw malformed('saml:Assertion without AssertionID');
  const lifetime = rstr.child(NS.wst, 'Lifetime');
  const created = lifetime?.child(NS.wsu, 'Created')?.text.trim();
  const expires = lifetime?.child(NS.wsu, 'Expires')?.text.trim();
  if (!created || !expires) throw malformed('no Lifetime Created/Expires');
  const expiresAt = Date.parse(expires);
  // The lexical form first: Date.parse alone accepts free text such as '2026-01-01 (<x/>)'.
  if (!XS_DATE_TIME.test(created) || !XS_DATE_TIME.test(expires) || !Number.isFinite(expiresAt) || !Number.isFinite(Date.parse(created))) {
    throw malformed('Lifetime is not xs:dateTime');
  }
  const computed = rstr.path([NS.wst, 'RequestedProofToken'], [NS.wst, 'ComputedKey'])?.text.trim();
  const secret = rstr.path([NS.wst, 'Entropy'], [NS.wst, 'BinarySecret'])?.text.trim();
  let serverEntropy: Buffer | null = null;
  if (computed !== undefined) {
    if (computed !== COMPUTED_KEY_PSHA1) throw malformed(`unsupported computed key '${computed}'`);
    if (secret === undefined) throw malformed('computed key without server entropy');
    serverEntropy = strictBase64(secret, malformed);
  }
  const subject = assertion.find(NS.saml, 'Subject')?.child(NS.saml, 'NameIdentifier')?.text.trim();
  const assertionXml = cutElement(raw, assertion);
  // The snippet goes verbatim into our next request: it must be exactly one well-formed
  // saml:Assertion, the one parsed above (not text from a comment or another element).
  let snippet: XmlElement;
  try {
    snippet = parseXml(assertionXml, { stage: 'auth' });
  } catch {
    throw malformed('the saml:Assertion cannot be cut out of the response as one element');
  }
  if (snippet.ns !== NS.saml || snippet.local !== 'Assertion' || snippet.attr('AssertionID') !== assertionId) {
    throw malformed('the saml:Assertion in the response text is not the one in the document');
  }
  return {
    assertionXml,
    assertionId,
    created,
    expires,
    expiresAt,
    serverEntropy,
    subject: subject === '' ? undefined : subject,
  };
}

/** xs:dateTime's lexical form (fraction and time zone optional). */
const XS_DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;

/** Cuts element `el` (the first of its qualified name) out of `raw`, declaring its own prefix. */
function cutElement(raw: string, el: XmlElement): string {
  const open = new RegExp(`<${escapeRegExp(el.name)}(?=[\\s/>])`, 'g');
  const m = open.exec(raw);
  if (!m) throw malformed(`cannot locate <${el.name}> in the response text`);
  const closeTag = `</${el.name}`;
  const end = raw.indexOf(closeTag, m.index);
  const endGt = end < 0 ? -1 : raw.indexOf('>', end);
  if (endGt < 0) throw malformed(`<${el.name}> is not closed`);
  let text = raw.slice(m.index, endGt + 1);
  // The prefix may be declared on an ancestor; make it explicit so the snippet stands alone.
  const decl = el.prefix === '' ? 'xmlns' : `xmlns:${el.prefix}`;
  const startTag = text.slice(0, text.indexOf('>') + 1);
  if (!new RegExp(`\\s${escapeRegExp(decl)}\\s*=`).test(startTag)) {
    text = `<${el.name} ${decl}="${escapeXml(el.ns)}"` + text.slice(el.name.length + 1);
  }
  return text;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Decodes base64 strictly (Node's decoder silently skips junk). */
export function strictBase64(text: string, fail: (what: string) => Error): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw fail('invalid base64');
  }
  return Buffer.from(compact, 'base64');
}

// ---------------------------------------------------------------- using the ticket

/**
 * The inner XML of `wsse:Security` that presents `ticket` to a Web Service: Timestamp (the ticket's
 * Lifetime), the assertion, and when the ticket has a proof key an HMAC-SHA1 ds:Signature over the
 * Timestamp [S29 sipe-webticket.c]. The proof key is derived here and wiped before returning.
 */
export function buildTicketSecurity(ticket: WebTicket, clientEntropy: Uint8Array | null): string {
  if (ticket.serverEntropy === null || clientEntropy === null) {
    return `<wsu:Timestamp wsu:Id="${TIMESTAMP_ID}"><wsu:Created>${escapeXml(ticket.created)}</wsu:Created><wsu:Expires>${escapeXml(ticket.expires)}</wsu:Expires></wsu:Timestamp>${ticket.assertionXml}`;
  }
  const key = deriveProofKey(clientEntropy, ticket.serverEntropy);
  try {
    const sig = signTimestamp(key, ticket.created, ticket.expires);
    const signature =
      `<Signature xmlns="${NS_DS}">${sig.signedInfoXml}<SignatureValue>${sig.signatureBase64}</SignatureValue>` +
      `<KeyInfo><wsse:SecurityTokenReference wsse:TokenType="${TOKEN_TYPE_SAML11}">` +
      `<wsse:KeyIdentifier ValueType="${SAML_ASSERTION_ID_TYPE}">${escapeXml(ticket.assertionId)}</wsse:KeyIdentifier>` +
      `</wsse:SecurityTokenReference></KeyInfo></Signature>`;
    return sig.timestampXml + ticket.assertionXml + signature;
  } finally {
    key.fill(0);
  }
}

export interface PresentedTicket {
  readonly assertionId: string;
  readonly timestamp: { readonly created: string; readonly expires: string } | undefined;
  readonly signature:
    | { readonly digestBase64: string; readonly signatureBase64: string; readonly keyIdentifier: string | undefined }
    | undefined;
}

/** Reads a ticket presented in a `wsse:Security` header (lab side); undefined when there is none. */
export function readPresentedTicket(security: XmlElement): PresentedTicket | undefined {
  const assertion = security.child(NS.saml, 'Assertion');
  const assertionId = assertion?.attr('AssertionID');
  if (!assertionId) return undefined;
  const ts = security.child(NS.wsu, 'Timestamp');
  const created = ts?.child(NS.wsu, 'Created')?.text.trim();
  const expires = ts?.child(NS.wsu, 'Expires')?.text.trim();
  const sig = security.child(NS_DS, 'Signature');
  const digest = sig?.path([NS_DS, 'SignedInfo'], [NS_DS, 'Reference'], [NS_DS, 'DigestValue'])?.text.trim();
  const value = sig?.child(NS_DS, 'SignatureValue')?.text.trim();
  const keyId = sig?.path([NS_DS, 'KeyInfo'], [NS.wsse, 'SecurityTokenReference'], [NS.wsse, 'KeyIdentifier'])?.text.trim();
  return {
    assertionId,
    timestamp: created && expires ? { created, expires } : undefined,
    signature: digest && value ? { digestBase64: digest, signatureBase64: value, keyIdentifier: keyId } : undefined,
  };
}

// ---------------------------------------------------------------- mex (discovery)

/** CertProv's mex: the policy naming the WebTicket issuer, and the port to POST to [S29]. */
export function buildCertProvMex(opts: { webTicketUrl: string; proofPortUrl: string }): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>\r\n` +
    `<wsdl:definitions name="CertProvisioningService" targetNamespace="${NS_TNS}" xmlns:tns="${NS_TNS}" xmlns:wsdl="${NS_WSDL}" xmlns:soap="${NS_WSDL_SOAP}"` +
    ` xmlns:wsp="${NS.wsp}" xmlns:wsu="${NS.wsu}" xmlns:sp="${NS_SP}" xmlns:wsa10="${NS.wsa}">` +
    `<wsp:Policy wsu:Id="${POLICY_CERTPROV_PROOF}"><wsp:ExactlyOne><wsp:All>` +
    `<sp:EndorsingSupportingTokens><wsp:Policy><sp:IssuedToken>` +
    `<sp:Issuer><wsa10:Address>${escapeXml(opts.webTicketUrl)}</wsa10:Address></sp:Issuer>` +
    `</sp:IssuedToken></wsp:Policy></sp:EndorsingSupportingTokens>` +
    `</wsp:All></wsp:ExactlyOne></wsp:Policy>` +
    `<wsdl:service name="CertProvisioningService">` +
    `<wsdl:port name="${PORT_CERTPROV_PROOF}" binding="tns:${PORT_CERTPROV_PROOF}"><soap:address location="${escapeXml(opts.proofPortUrl)}"/></wsdl:port>` +
    `</wsdl:service></wsdl:definitions>`
  );
}

export interface CertProvMex {
  /** The WebTicket service to ask for a ticket (policy Issuer Address). */
  readonly webTicketUrl: string;
  /** Where to POST GetAndPublishCert with that ticket. */
  readonly certProvUrl: string;
  /** Endorsing token: the Timestamp must be signed with the proof key. */
  readonly requiresSigning: boolean;
}

export function parseCertProvMex(root: XmlElement): CertProvMex {
  const policy = [root, ...root.descendants(NS.wsp, 'Policy')].find(
    (p) => p.ns === NS.wsp && p.local === 'Policy' && (p.attr('Id', NS.wsu) ?? p.attr('Id')) === POLICY_CERTPROV_PROOF,
  );
  if (!policy) throw malformed(`CertProv mex has no ${POLICY_CERTPROV_PROOF}`);
  const all = policy.path([NS.wsp, 'ExactlyOne'], [NS.wsp, 'All']);
  const endorsing = all?.child(NS_SP, 'EndorsingSupportingTokens');
  const tokens = endorsing ?? all?.child(NS_SP, 'SignedSupportingTokens');
  const webTicketUrl = tokens?.path([NS.wsp, 'Policy'], [NS_SP, 'IssuedToken'], [NS_SP, 'Issuer'], [NS.wsa, 'Address'])?.text.trim();
  if (!webTicketUrl) throw malformed('CertProv mex policy names no WebTicket issuer');
  const certProvUrl = portLocations(root).get(PORT_CERTPROV_PROOF.toLowerCase());
  if (!certProvUrl) throw malformed(`CertProv mex has no port ${PORT_CERTPROV_PROOF}`);
  return { webTicketUrl, certProvUrl, requiresSigning: endorsing !== undefined };
}

/** WebTicket's mex: one port per authentication method. */
export function buildWebTicketMex(ports: readonly { name: string; location: string }[]): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>\r\n` +
    `<wsdl:definitions name="WebTicketService" targetNamespace="${NS_TNS}" xmlns:tns="${NS_TNS}" xmlns:wsdl="${NS_WSDL}" xmlns:soap="${NS_WSDL_SOAP}">` +
    `<wsdl:service name="WebTicketService">` +
    ports
      .map((p) => `<wsdl:port name="${escapeXml(p.name)}" binding="tns:${escapeXml(p.name)}"><soap:address location="${escapeXml(p.location)}"/></wsdl:port>`)
      .join('') +
    `</wsdl:service></wsdl:definitions>`
  );
}

/** Port name (lower-cased, names compare case-insensitively as in SIPE) → address location. */
export function portLocations(root: XmlElement): Map<string, string> {
  const out = new Map<string, string>();
  for (const service of root.descendants(NS_WSDL, 'service')) {
    for (const port of service.childrenNamed(NS_WSDL, 'port')) {
      const name = port.attr('name');
      const location = port.child(NS_WSDL_SOAP, 'address')?.attr('location');
      if (name && location) out.set(name.toLowerCase(), location);
    }
  }
  return out;
}
