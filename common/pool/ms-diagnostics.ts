import type { XmlElement } from '../xml';
import { splitOutsideQuotes } from './quoted-split';

/**
 * Lync's diagnostic channels on the Web Services (reference §4, [S27][S28]):
 * - the HTTP header `X-Ms-diagnostics`, documented by MS-OCAUTHWS as
 *   `errorId ";" DQUOTE source DQUOTE ";" DQUOTE reason DQUOTE ";" DQUOTE fault DQUOTE`
 *   ([S28c]); Lync servers also send the SIP-style form `errorId;source="…";reason="…"`, so both
 *   are read;
 * - the SOAP fault `s:Fault/detail/af:OCSDiagnosticsFault/Ms-Diagnostics-Fault/{ErrorId,Reason}` ([S28b]);
 * - the header `X-MS-WebTicketURL` on a 401 from a non-web-service endpoint without a web ticket ([S27]).
 * Diagnostics are hints: anything unreadable yields null, never an exception.
 */

export interface MsDiagnostics {
  /** The MS-OCER error id (e.g. 28020). */
  readonly errorId: number;
  /** The part after a dot, e.g. 2 in `4007.2`, when present. */
  readonly subCode: number | null;
  /** FQDN of the server that raised it. */
  readonly source: string | null;
  readonly reason: string | null;
  /** `fault:subcode` of the MS-OCAUTHWS form, e.g. `wsse:FailedAuthentication`. */
  readonly fault: string | null;
  /** Every named parameter as sent (lower-cased names). */
  readonly params: Readonly<Record<string, string>>;
}

/** Longest header value read; a longer one is cut (diagnostics are short by nature). */
const MAX_HEADER = 4096;

/** Splits on `;` outside double quotes; an open quote (e.g. a value cut at MAX_HEADER) is tolerated. */
function splitParams(value: string): string[] {
  return splitOutsideQuotes(value, ';').parts.map((p) => p.trim());
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  return t;
}

/** Reads one `X-Ms-diagnostics` (or SIP `ms-diagnostics`) value; null when it has no error id. */
export function parseMsDiagnosticsHeader(value: string | undefined | null): MsDiagnostics | null {
  if (typeof value !== 'string') return null;
  const [first, ...rest] = splitParams(value.slice(0, MAX_HEADER));
  const id = /^(\d{1,9})(?:\.(\d{1,9}))?$/.exec(first ?? '');
  if (!id) return null;
  const params: Record<string, string> = {};
  const positional: string[] = [];
  for (const part of rest) {
    if (part === '') continue;
    const named = /^([A-Za-z][\w.-]*)\s*=\s*(.*)$/s.exec(part);
    if (named && !part.startsWith('"')) params[named[1]!.toLowerCase()] = unquote(named[2]!);
    else positional.push(unquote(part));
  }
  return {
    errorId: Number(id[1]),
    subCode: id[2] === undefined ? null : Number(id[2]),
    source: params.source ?? positional[0] ?? null,
    reason: params.reason ?? positional[1] ?? null,
    fault: params.fault ?? params.faultcode ?? positional[2] ?? null,
    params,
  };
}

/** `af:OCSDiagnosticsFault/Ms-Diagnostics-Fault/{ErrorId,Reason}` of a SOAP fault; null when absent. */
export function parseOcsDiagnosticsFault(envelope: XmlElement): MsDiagnostics | null {
  // Matched by local name in any namespace: the published excerpt names the elements but the
  // `af` namespace URI is not in our sources, and a diagnostic is only a hint.
  const byLocal = (el: XmlElement, local: string): XmlElement | undefined => el.children.find((c) => c.local === local);
  const all = (el: XmlElement, local: string): XmlElement[] => {
    const found: XmlElement[] = [];
    const stack = [el];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (e.local === local) found.push(e);
      stack.push(...e.children);
    }
    return found;
  };
  const fault = all(envelope, 'Fault')[0];
  if (!fault) return null;
  const detail = byLocal(fault, 'detail') ?? byLocal(fault, 'Detail');
  const ocs = detail === undefined ? undefined : all(detail, 'OCSDiagnosticsFault')[0];
  const ms = ocs === undefined ? undefined : byLocal(ocs, 'Ms-Diagnostics-Fault');
  if (!ms) return null;
  const idText = byLocal(ms, 'ErrorId')?.text.trim() ?? '';
  if (!/^\d{1,9}$/.test(idText)) return null;
  const reason = byLocal(ms, 'Reason')?.text.trim();
  const faultCode = byLocal(fault, 'faultcode')?.text.trim();
  return {
    errorId: Number(idText),
    subCode: null,
    source: null,
    reason: reason === undefined || reason === '' ? null : reason,
    fault: faultCode === undefined || faultCode === '' ? null : faultCode,
    params: {},
  };
}

/** The `faultstring` of a SOAP 1.1 fault, when the envelope is one. */
export function soapFaultString(envelope: XmlElement): string | null {
  const body = envelope.children.find((c) => c.local === 'Body');
  const fault = body?.children.find((c) => c.local === 'Fault');
  const text = fault?.children.find((c) => c.local === 'faultstring')?.text.trim();
  return text === undefined || text === '' ? null : text;
}

/** The WebTicket service URL a 401 points at (`X-MS-WebTicketURL`), if it is an http(s) URL. */
export function parseWebTicketUrlHeader(value: string | undefined | null): string | null {
  if (typeof value !== 'string') return null;
  const raw = unquote(value.slice(0, MAX_HEADER));
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : null;
  } catch {
    return null;
  }
}

/** One line for a person: `28020 (pool01.contoso.com): No valid security token.` */
export function describeMsDiagnostics(d: MsDiagnostics): string {
  const id = d.subCode === null ? String(d.errorId) : `${d.errorId}.${d.subCode}`;
  return `${id}${d.source ? ` (${d.source})` : ''}${d.reason ? `: ${d.reason}` : ''}`;
}
