import { X509Certificate } from 'node:crypto';
import { TetherError } from '../errors';
import { decodePkcs7Certificates, encodePkcs7Certificates } from './chain/pkcs7';
import type { XmlElement } from '../xml/element';
import { NS, buildEnvelope, buildResponseEnvelope } from './soap-envelope';
import { escapeXml } from '../xml/escape';
import { strictBase64 } from './webticket-wire';

/**
 * CertProv GetAndPublishCert (MS-OCAUTHWS 3.1.4.1, portType CertProvisioningService) in the wire
 * form SIPE sends [S26][S28][S29 sipe-svc.c, sipe-certificate.c]; see docs/pool/certprov.md.
 * Request: SOAP 1.1 + WS-Addressing, the web ticket in wsse:Security, body GetAndPublishCert
 * (DeviceId, Entity) with a wst:RequestSecurityToken carrying the PKCS#10 request as a
 * wsse:BinarySecurityToken and a wstep:RequestID.
 * Response: GetAndPublishCertResponse/RequestSecurityTokenResponse/RequestedSecurityToken/
 * BinarySecurityToken (the issued X.509v3 certificate), or ErrorInfo (errors MUST be there [S26]).
 * OUR MODEL where the sources are silent: the chain travels as a PKCS#7 (certs-only) in a
 * wsse:BinarySecurityToken beside RequestedSecurityToken (the MS-WSTEP layout; clients must
 * understand PKCS#7 [S27]), and ErrorInfo's children are Code and Message.
 */

export const SOAP_ACTION_GET_AND_PUBLISH_CERT = 'http://schemas.microsoft.com/OCS/AuthWebServices/GetAndPublishCert';
export const NS_AUTHWS = 'http://schemas.microsoft.com/OCS/AuthWebServices/';
/** The WS-Trust namespace as written inside GetAndPublishCert (with a trailing slash) [S29]. */
export const NS_WST_BODY = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/';
export const NS_WSTEP = 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment';
export const TOKEN_TYPE_X509V3 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3';
export const VALUE_TYPE_PKCS10 = 'http://schemas.microsoft.com/OCS/AuthWebServices.xsd#PKCS10';
export const VALUE_TYPE_PKCS7 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#PKCS7';
export const VALUE_TYPE_X509V3 = TOKEN_TYPE_X509V3;
export const ENCODING_BASE64 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#Base64Binary';
export const REQUEST_TYPE_ISSUE = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue';

/** Our ErrorInfo codes (OUR MODEL; the real server's values are not published). */
export const ERROR_INFO_CODES = {
  publishFailed: 'PublishFailed',
  invalidRequest: 'InvalidRequest',
  entityMismatch: 'EntityMismatch',
  csrRejected: 'CsrRejected',
} as const;

/** Both WS-Trust spellings: SIPE's body uses the trailing slash, WS-Trust 1.3 does not. */
const WST = [NS_WST_BODY, NS.wst];

function childOfAny(el: XmlElement | undefined, nss: readonly string[], local: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const ns of nss) {
    const c = el.child(ns, local);
    if (c) return c;
  }
  return undefined;
}

// ---------------------------------------------------------------- PEM / DER helpers

/** Base64 of a PEM block's DER, wrapped at 76 columns with CRLF as SIPE sends it [S29]. */
export function pemToWrappedBase64(pem: string, label: string): string {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!m) throw new TetherError('BAD_INPUT', `Not a PEM ${label}.`, { stage: 'certificate', detail: { expected: label } });
  const der = strictBase64(m[1]!, (what) => new TetherError('BAD_INPUT', `PEM ${label}: ${what}.`, { stage: 'certificate' }));
  return wrap76(der.toString('base64'));
}

function wrap76(b64: string): string {
  return (b64.match(/.{1,76}/g) ?? []).join('\r\n');
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
}

// ---------------------------------------------------------------- request (client → CertProv)

export interface GetAndPublishCertRequest {
  /** The CertProv port URL POSTed to (wsa:To). */
  readonly to: string;
  /** Inner XML of wsse:Security (from buildTicketSecurity). */
  readonly security: string;
  /** The phone's PKCS#10 request, PEM. */
  readonly csrPem: string;
  /** A GUID; sent in braces like SIPE does, e.g. {3f2c…}. */
  readonly deviceId: string;
  /** The user, `user@domain` (no sip: prefix) [S29]. */
  readonly entity: string;
  /** A GUID for wstep:RequestID. */
  readonly requestId: string;
}

export function buildGetAndPublishCertRequest(r: GetAndPublishCertRequest): string {
  const deviceId = r.deviceId.startsWith('{') ? r.deviceId : `{${r.deviceId}}`;
  const body =
    `<GetAndPublishCert xmlns="${NS_AUTHWS}" xmlns:wst="${NS_WST_BODY}" xmlns:wstep="${NS_WSTEP}"` +
    ` DeviceId="${escapeXml(deviceId)}" Entity="${escapeXml(r.entity)}">` +
    `<wst:RequestSecurityToken>` +
    `<wst:TokenType>${TOKEN_TYPE_X509V3}</wst:TokenType>` +
    `<wst:RequestType>${REQUEST_TYPE_ISSUE}</wst:RequestType>` +
    `<wsse:BinarySecurityToken ValueType="${VALUE_TYPE_PKCS10}" EncodingType="${ENCODING_BASE64}">\r\n` +
    pemToWrappedBase64(r.csrPem, 'CERTIFICATE REQUEST') +
    `</wsse:BinarySecurityToken>` +
    `<wstep:RequestID>${escapeXml(r.requestId)}</wstep:RequestID>` +
    `</wst:RequestSecurityToken>` +
    `</GetAndPublishCert>`;
  return buildEnvelope({ to: r.to, action: SOAP_ACTION_GET_AND_PUBLISH_CERT, security: r.security, body });
}

export interface ParsedGetAndPublishCert {
  readonly to: string | undefined;
  readonly action: string | undefined;
  readonly security: XmlElement | undefined;
  readonly deviceId: string;
  readonly entity: string;
  readonly requestId: string | undefined;
  readonly csrPem: string;
}

/** Reads a GetAndPublishCert request (lab side). */
export function parseGetAndPublishCertRequest(envelope: XmlElement): ParsedGetAndPublishCert {
  const bad = (what: string) => new TetherError('BAD_INPUT', `Malformed GetAndPublishCert: ${what}.`, { stage: 'certificate', detail: { what } });
  if (envelope.ns !== NS.soap || envelope.local !== 'Envelope') throw bad('not a SOAP 1.1 envelope');
  const header = envelope.child(NS.soap, 'Header');
  const op = envelope.child(NS.soap, 'Body')?.child(NS_AUTHWS, 'GetAndPublishCert');
  if (!op) throw bad('no GetAndPublishCert in the body');
  const deviceId = op.attr('DeviceId');
  const entity = op.attr('Entity');
  if (!deviceId || !entity) throw bad('DeviceId and Entity attributes are required');
  const rst = childOfAny(op, WST, 'RequestSecurityToken');
  if (!rst) throw bad('no RequestSecurityToken');
  const bst = rst.child(NS.wsse, 'BinarySecurityToken');
  if (!bst || bst.attr('ValueType') !== VALUE_TYPE_PKCS10) throw bad('no PKCS#10 BinarySecurityToken');
  const der = strictBase64(bst.text, bad);
  return {
    to: header?.child(NS.wsa, 'To')?.text.trim(),
    action: header?.child(NS.wsa, 'Action')?.text.trim(),
    security: header?.child(NS.wsse, 'Security'),
    deviceId,
    entity,
    requestId: rst.child(NS_WSTEP, 'RequestID')?.text.trim(),
    csrPem: derToPem(der, 'CERTIFICATE REQUEST'),
  };
}

// ---------------------------------------------------------------- response (CertProv → client)

/** The issued certificate (X.509v3) and the chain (PKCS#7 of leaf + chain), lab side. */
export function buildGetAndPublishCertResponse(opts: { certificatePem: string; chainPems: readonly string[]; requestId?: string }): string {
  const leaf = new X509Certificate(opts.certificatePem).raw.toString('base64');
  const p7 = Buffer.from(encodePkcs7Certificates([opts.certificatePem, ...opts.chainPems])).toString('base64');
  const body =
    `<GetAndPublishCertResponse xmlns="${NS_AUTHWS}">` +
    `<RequestSecurityTokenResponse xmlns="${NS_WST_BODY}">` +
    `<TokenType>${TOKEN_TYPE_X509V3}</TokenType>` +
    `<DispositionMessage xmlns="${NS_WSTEP}">Issued</DispositionMessage>` +
    `<BinarySecurityToken xmlns="${NS.wsse}" ValueType="${VALUE_TYPE_PKCS7}" EncodingType="${ENCODING_BASE64}">${p7}</BinarySecurityToken>` +
    `<RequestedSecurityToken>` +
    `<BinarySecurityToken xmlns="${NS.wsse}" ValueType="${VALUE_TYPE_X509V3}" EncodingType="${ENCODING_BASE64}">${leaf}</BinarySecurityToken>` +
    `</RequestedSecurityToken>` +
    (opts.requestId === undefined ? '' : `<RequestID xmlns="${NS_WSTEP}">${escapeXml(opts.requestId)}</RequestID>`) +
    `</RequestSecurityTokenResponse></GetAndPublishCertResponse>`;
  return buildResponseEnvelope(body);
}

/** An ErrorInfo answer (HTTP 200, no SOAP fault, as [S26] requires). Code/Message are OUR MODEL. */
export function buildGetAndPublishCertError(opts: { code: string; message: string }): string {
  const body =
    `<GetAndPublishCertResponse xmlns="${NS_AUTHWS}">` +
    `<ErrorInfo><Code>${escapeXml(opts.code)}</Code><Message>${escapeXml(opts.message)}</Message></ErrorInfo>` +
    `</GetAndPublishCertResponse>`;
  return buildResponseEnvelope(body);
}

export type GetAndPublishCertResult =
  | { readonly kind: 'issued'; readonly certificatePem: string; readonly chainPems: string[] }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

/** Reads the CertProv answer (client side). Malformed or hostile content → CERTPROV_BAD_RESPONSE. */
export function parseGetAndPublishCertResponse(envelope: XmlElement): GetAndPublishCertResult {
  const bad = (what: string) => new TetherError('CERTPROV_BAD_RESPONSE', `Malformed GetAndPublishCert response: ${what}.`, { detail: { what } });
  if (envelope.ns !== NS.soap || envelope.local !== 'Envelope') throw bad('not a SOAP 1.1 envelope');
  const resp = envelope.child(NS.soap, 'Body')?.child(NS_AUTHWS, 'GetAndPublishCertResponse');
  if (!resp) throw bad('no GetAndPublishCertResponse');
  const info = resp.child(NS_AUTHWS, 'ErrorInfo') ?? resp.children.find((c) => c.local === 'ErrorInfo');
  if (info) {
    // Tolerant: any child text counts, so a real server's field names still reach the user.
    const pick = (...names: string[]) => info.children.find((c) => names.includes(c.local))?.textContent().trim();
    const code = pick('Code', 'ErrorCode', 'HResult') ?? '';
    const message = pick('Message', 'Reason', 'Description', 'ErrorMessage') ?? info.textContent().trim();
    return { kind: 'error', code, message };
  }
  const rstr = childOfAny(resp, WST, 'RequestSecurityTokenResponse');
  if (!rstr) throw bad('no RequestSecurityTokenResponse');
  const tokens = [
    ...(childOfAny(rstr, WST, 'RequestedSecurityToken')?.childrenNamed(NS.wsse, 'BinarySecurityToken') ?? []),
  ];
  const siblings = rstr.childrenNamed(NS.wsse, 'BinarySecurityToken');
  if (tokens.length === 0) throw bad('no RequestedSecurityToken/BinarySecurityToken');
  const certs: X509Certificate[] = [];
  let leaf: X509Certificate | undefined;
  for (const token of [...tokens, ...siblings]) {
    const der = strictBase64(token.text, bad);
    const decoded = token.attr('ValueType') === VALUE_TYPE_PKCS7 ? pkcs7Certificates(der, bad) : [x509(der, bad)];
    if (leaf === undefined && tokens.includes(token)) leaf = decoded.length === 1 ? decoded[0] : leafOf(decoded);
    for (const c of decoded) if (!certs.some((k) => k.fingerprint256 === c.fingerprint256)) certs.push(c);
  }
  if (!leaf) throw bad('no certificate in RequestedSecurityToken');
  return { kind: 'issued', certificatePem: leaf.toString(), chainPems: orderChain(leaf, certs).map((c) => c.toString()) };
}

function x509(der: Buffer, bad: (what: string) => Error): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw bad('a BinarySecurityToken is not an X.509 certificate');
  }
}

function pkcs7Certificates(der: Buffer, bad: (what: string) => Error): X509Certificate[] {
  let certsDer: Uint8Array[];
  try {
    // The chain download's reader: strict DER, size and count limits, EC certificates too.
    certsDer = decodePkcs7Certificates(der);
  } catch {
    throw bad('the PKCS#7 chain cannot be decoded');
  }
  return certsDer.map((d) => x509(Buffer.from(d), bad));
}

/** The certificate that issued none of the others. */
function leafOf(certs: X509Certificate[]): X509Certificate | undefined {
  return certs.find((c) => !certs.some((o) => o !== c && o.issuer === c.subject && o.subject !== c.subject));
}

/** The chain above `leaf`, issuer first (intermediate, …, root), then any unrelated extras. */
function orderChain(leaf: X509Certificate, all: X509Certificate[]): X509Certificate[] {
  const rest = all.filter((c) => c.fingerprint256 !== leaf.fingerprint256);
  const out: X509Certificate[] = [];
  let at = leaf;
  for (;;) {
    if (at.issuer === at.subject) break;
    const next = rest.find((c) => !out.includes(c) && c.subject === at.issuer);
    if (!next) break;
    out.push(next);
    at = next;
  }
  return [...out, ...rest.filter((c) => !out.includes(c))];
}
