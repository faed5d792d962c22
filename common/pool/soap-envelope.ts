import { escapeXml } from '../xml/escape';

/**
 * SOAP 1.1 envelopes as the Lync Web Services (WebTicket, CertProv) use them: WS-Addressing
 * To/ReplyTo/Action and a `wsse:Security` header (SIPE: only with a token) [S28]. Builders only; parsing goes
 * through common/xml.
 */

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wst: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  wsp: 'http://schemas.xmlsoap.org/ws/2004/09/policy',
  saml: 'urn:oasis:names:tc:SAML:1.0:assertion',
  auth: 'http://schemas.xmlsoap.org/ws/2006/12/authorization',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  af: 'urn:component:Microsoft.Rtc.WebAuthentication.2010',
} as const;

export const WSA_ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';

export interface EnvelopeParts {
  /** WS-Addressing To (the endpoint POSTed to). */
  readonly to: string;
  /** WS-Addressing Action (= the SOAPAction). */
  readonly action: string;
  /** Inner XML of wsse:Security, or null for no Security header. */
  readonly security: string | null;
  /** Inner XML of soap:Body. */
  readonly body: string;
}

/** A SOAP 1.1 request envelope with the prefixes every Lync Web Services message uses. */
export function buildEnvelope(parts: EnvelopeParts): string {
  const header =
    `<soap:Header>` +
    `<wsa:To>${escapeXml(parts.to)}</wsa:To>` +
    `<wsa:ReplyTo><wsa:Address>${WSA_ANONYMOUS}</wsa:Address></wsa:ReplyTo>` +
    `<wsa:Action>${escapeXml(parts.action)}</wsa:Action>` +
    (parts.security === null ? '' : `<wsse:Security>${parts.security}</wsse:Security>`) +
    `</soap:Header>`;
  return (
    `<?xml version="1.0" encoding="utf-8"?>\r\n` +
    `<soap:Envelope xmlns:soap="${NS.soap}" xmlns:wsa="${NS.wsa}" xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}"` +
    ` xmlns:wst="${NS.wst}" xmlns:wsp="${NS.wsp}" xmlns:saml="${NS.saml}" xmlns:auth="${NS.auth}">` +
    header +
    `<soap:Body>${parts.body}</soap:Body>` +
    `</soap:Envelope>`
  );
}

/** A SOAP 1.1 response envelope (no request headers), with an optional wsa:Action. */
export function buildResponseEnvelope(body: string, action?: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>\r\n` +
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.wsa}">` +
    (action === undefined ? '' : `<s:Header><a:Action s:mustUnderstand="1">${escapeXml(action)}</a:Action></s:Header>`) +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

/**
 * A SOAP 1.1 fault carrying `af:OCSDiagnosticsFault/Ms-Diagnostics-Fault/{ErrorId,Reason}` in
 * `s:detail`, the documented form for Web Ticket credential errors [S28b][S28c].
 */
export function buildOcsDiagnosticsFault(opts: {
  faultCode: 'Client' | 'Server';
  faultString: string;
  errorId: number;
  reason: string;
}): string {
  const body =
    `<s:Fault><faultcode>s:${opts.faultCode}</faultcode><faultstring xml:lang="en-US">${escapeXml(opts.faultString)}</faultstring>` +
    `<detail><af:OCSDiagnosticsFault xmlns:af="${NS.af}"><af:Ms-Diagnostics-Fault>` +
    `<af:ErrorId>${opts.errorId}</af:ErrorId><af:Reason>${escapeXml(opts.reason)}</af:Reason>` +
    `</af:Ms-Diagnostics-Fault></af:OCSDiagnosticsFault></detail></s:Fault>`;
  return buildResponseEnvelope(body);
}

/**
 * `X-Ms-diagnostics: errorId;"source-fqdn";"reason";"fault:subcode"`, the MS-OCAUTHWS ABNF form
 * [S28c] (reference §4). Quotes and line breaks inside values are replaced by spaces.
 */
export function formatMsDiagnostics(errorId: number, sourceFqdn: string, reason: string, fault: string): string {
  const q = (s: string) => `"${s.replace(/["\\\r\n]/g, ' ')}"`;
  return `${errorId};${q(sourceFqdn)};${q(reason)};${q(fault)}`;
}
