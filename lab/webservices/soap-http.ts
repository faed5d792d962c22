import type { ServerResponse } from 'node:http';
import { buildOcsDiagnosticsFault, formatMsDiagnostics } from '../../common/pool/soap-envelope';

/** Writes a SOAP answer (text/xml). */
export function sendSoap(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': body.length, ...headers });
  res.end(body);
}

export interface Diagnostic {
  readonly errorId: number;
  readonly reason: string;
  /** `fault:subcode`, e.g. wsse:FailedAuthentication. */
  readonly fault: string;
}

/**
 * A credential error as the WebTicket service reports it: HTTP 500 with a SOAP fault carrying
 * OCSDiagnosticsFault, plus the same facts in X-Ms-diagnostics [S28b][S28c].
 */
export function sendDiagnosticFault(res: ServerResponse, source: string, d: Diagnostic, status = 500, extra: Record<string, string> = {}): void {
  const xml = buildOcsDiagnosticsFault({ faultCode: 'Client', faultString: d.reason, errorId: d.errorId, reason: d.reason });
  sendSoap(res, status, xml, { 'X-Ms-diagnostics': formatMsDiagnostics(d.errorId, source, d.reason, d.fault), ...extra });
}

/** An HTTP error with only the X-Ms-diagnostics header (the Integrated Windows auth form) [S28c]. */
export function sendDiagnosticStatus(res: ServerResponse, status: number, source: string, d: Diagnostic, extra: Record<string, string> = {}): void {
  const body = Buffer.from(`${status} ${d.reason}\n`, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'X-Ms-diagnostics': formatMsDiagnostics(d.errorId, source, d.reason, d.fault),
    ...extra,
  });
  res.end(body);
}
