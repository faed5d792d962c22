import { parseMsDiagnosticsHeader, parseOcsDiagnosticsFault, parseWebTicketUrlHeader, soapFaultString, type MsDiagnostics } from '../../../common/pool/ms-diagnostics';
import type { StageId } from '../../../common/stages';
import { parseXml, type XmlElement } from '../../../common/xml';
import { headerValue, type PoolResponse } from '../net/http';

/**
 * What a Lync Web Services answer says, read once for both WebTicket and CertProv: the parsed
 * envelope (through the safe parser: size limit, no DTD, no entities), the SOAP fault and the
 * diagnostics from the fault or the X-Ms-diagnostics header.
 */
export interface SoapAnswer {
  readonly status: number;
  /** The body as text (the WebTicket assertion is cut from it byte for byte). */
  readonly text: string;
  /** The envelope, or null when the body is empty or not XML (e.g. an IIS HTML error page). */
  readonly envelope: XmlElement | null;
  readonly faultString: string | null;
  readonly diagnostics: MsDiagnostics | null;
  /** X-MS-WebTicketURL on a 401 without ticket [S27]. */
  readonly webTicketUrl: string | null;
}

export function readSoapAnswer(res: PoolResponse, stage: StageId): SoapAnswer {
  const text = res.body.toString('utf8');
  const type = headerValue(res.headers, 'content-type') ?? '';
  // Only XML is parsed; hostile XML (DTD, entities, oversize) throws the parser's typed error.
  const looksXml = /xml/i.test(type) || /^\s*</.test(text);
  const envelope = looksXml && text.trim() !== '' ? parseXml(text, { stage }) : null;
  const faultString = envelope ? soapFaultString(envelope) : null;
  const diagnostics =
    (envelope ? parseOcsDiagnosticsFault(envelope) : null) ?? parseMsDiagnosticsHeader(headerValue(res.headers, 'x-ms-diagnostics'));
  return { status: res.status, text, envelope, faultString, diagnostics, webTicketUrl: parseWebTicketUrlHeader(headerValue(res.headers, 'x-ms-webticketurl')) };
}

/** Facts for an error's detail: status and diagnostics only (never a body, never a secret). */
export function answerDetail(a: SoapAnswer, url: string): Record<string, string | number> {
  const u = new URL(url);
  return {
    url: `${u.origin}${u.pathname}`,
    status: a.status,
    ...(a.diagnostics ? { errorId: a.diagnostics.errorId } : {}),
    ...(a.diagnostics?.reason ? { reason: a.diagnostics.reason.slice(0, 200) } : {}),
    ...(a.diagnostics?.source ? { source: a.diagnostics.source.slice(0, 200) } : {}),
    ...(a.faultString ? { fault: a.faultString.slice(0, 200) } : {}),
  };
}
