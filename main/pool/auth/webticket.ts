import { randomBytes, randomUUID } from 'node:crypto';
import { TetherError } from '../../../common/errors';
import { buildPinSecurity, validatePinCredentials } from '../../../common/pool/webticket-pin';
import {
  WEBTICKET_ERROR_IDS,
  buildTicketSecurity,
  buildWebTicketRequest,
  parseWebTicketResponse,
  SOAP_ACTION_RST_ISSUE,
  type WebTicket,
} from '../../../common/pool/webticket-wire';
import type { PoolHttpClient, PoolResponse } from '../net/http';
import { ntlmHttpRequest } from './ntlm-http';
import { requireHttps } from './require-https';
import { answerDetail, readSoapAnswer, type SoapAnswer } from './soap-answer';

/**
 * Stage 7: get a web ticket from the WebTicket service for the CertProv endpoint
 * (docs/pool/certprov.md, docs/pool/webticket-pin.md). Two ways in:
 * - PIN: phone number or extension + PIN in OUR MODEL's UsernameToken, POSTed to the
 *   `WebTicketServicePin` port;
 * - NTLM: the RST POSTed to the `WebTicketServiceWinNtlm`/`WinNegotiate` port, authenticated with
 *   RFC 4559 NTLMv2 on one kept-alive connection (main/pool/auth/ntlm-http); a rejected password
 *   is its NTLM_REJECTED.
 * Credentials are used for the request only: never logged, stored or put in an error; the request
 * bytes that held them are zeroed after sending (JS strings themselves cannot be wiped).
 */

export interface PinAuth {
  readonly kind: 'pin';
  readonly phoneOrExt: string;
  readonly pin: string;
}

export interface NtlmAuth {
  readonly kind: 'ntlm';
  /** NetBIOS or DNS domain. */
  readonly domain: string;
  readonly username: string;
  readonly password: string;
}

export type WebTicketAuth = PinAuth | NtlmAuth;

export interface WebTicketOptions {
  readonly http: PoolHttpClient;
  /** The WebTicket port to POST to (from discovery or configuration). */
  readonly url: string;
  /** The service the ticket is for (the CertProv endpoint; wsp:AppliesTo). */
  readonly appliesTo: string;
  /** `sip:user@domain` for the Claims; required with NTLM, omitted with PIN in our model. */
  readonly sipUri?: string;
  readonly auth: WebTicketAuth;
  /** Randomness and clock, injectable for tests. */
  readonly random?: (n: number) => Buffer;
  readonly now?: () => number;
}

/** A ticket ready to present: the assertion plus the client entropy that proves possession. */
export interface IssuedWebTicket {
  readonly ticket: WebTicket;
  readonly issuer: string;
  readonly appliesTo: string;
  /** The SIP URI the ticket is for: the one asked for, else the ticket's subject (PIN). */
  readonly sipUri: string | undefined;
  /** The inner XML of wsse:Security for a request to `appliesTo` (Timestamp signed with the proof key). */
  securityHeader(): string;
  isExpired(now?: number): boolean;
  /** Wipes the client entropy; the ticket is unusable afterwards. */
  dispose(): void;
}

export async function requestWebTicket(opts: WebTicketOptions): Promise<IssuedWebTicket> {
  const random = opts.random ?? randomBytes;
  const now = opts.now ?? Date.now;
  const auth = opts.auth;
  requireHttps(opts.url, 'WEBTICKET_NOT_HTTPS', 'Web Ticket');
  if (auth.kind === 'ntlm' && opts.sipUri === undefined) {
    throw new TetherError('BAD_INPUT', 'Windows sign-in needs the user\'s SIP address.', { stage: 'auth', detail: { field: 'sipUri' } });
  }
  const security = auth.kind === 'pin' ? buildPinSecurity(validatePinCredentials(auth)) : null;
  const entropy = random(32);
  const xml = buildWebTicketRequest({
    to: opts.url,
    appliesTo: opts.appliesTo,
    ...(opts.sipUri === undefined ? {} : { sipUri: opts.sipUri }),
    entropy,
    context: randomUUID(),
    security,
  });
  const body = Buffer.from(xml, 'utf8');
  const headers = { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${SOAP_ACTION_RST_ISSUE}"` };
  let res: PoolResponse;
  try {
    if (auth.kind === 'pin') {
      res = await opts.http.request({ url: opts.url, method: 'POST', headers, body, stage: 'auth', acceptStatus: () => true });
    } else {
      // The password as bytes we can wipe; the NTLM client wipes every key derived from it.
      const password = Buffer.from(auth.password, 'utf8');
      try {
        const result = await ntlmHttpRequest(
          opts.http,
          { domain: auth.domain, user: auth.username, password },
          { url: opts.url, method: 'POST', headers, body, stage: 'auth', acceptStatus: () => true },
        );
        res = result.response;
      } finally {
        password.fill(0);
      }
    }
  } catch (err) {
    entropy.fill(0);
    throw err;
  } finally {
    body.fill(0); // held the PIN (PIN path)
  }

  let ticket: WebTicket;
  try {
    const answer = readSoapAnswer(res, 'auth');
    if (answer.status !== 200 || !answer.envelope || answer.faultString !== null || answer.diagnostics !== null) {
      throw webTicketFailure(answer, opts.url, auth.kind);
    }
    ticket = parseWebTicketResponse(answer.text, answer.envelope);
  } catch (err) {
    entropy.fill(0);
    throw err;
  }
  const sipUri = opts.sipUri ?? ticket.subject;
  let disposed = false;
  return {
    ticket,
    issuer: opts.url,
    appliesTo: opts.appliesTo,
    sipUri,
    securityHeader() {
      if (disposed) throw new TetherError('INTERNAL', 'The web ticket was already disposed.', { stage: 'auth' });
      return buildTicketSecurity(ticket, entropy);
    },
    isExpired: (at = now()) => at >= ticket.expiresAt,
    dispose() {
      disposed = true;
      entropy.fill(0);
    },
  };
}

/** Maps a WebTicket failure (status, fault, diagnostics) to its typed error (stage 7). */
export function webTicketFailure(a: SoapAnswer, url: string, method: 'pin' | 'ntlm'): TetherError {
  const detail = { ...answerDetail(a, url), method };
  const id = a.diagnostics?.errorId;
  const reason = `${a.diagnostics?.reason ?? ''} ${a.faultString ?? ''}`;
  const say = a.diagnostics?.reason ? ` The server said: ${a.diagnostics.reason.slice(0, 200)}` : '';
  if (id === WEBTICKET_ERROR_IDS.accountLocked || /\block(ed|out)\b/i.test(reason)) {
    return new TetherError('WEBTICKET_ACCOUNT_LOCKED', undefined, { detail });
  }
  if (id === WEBTICKET_ERROR_IDS.methodDisabled || a.status === 403) {
    return new TetherError('WEBTICKET_METHOD_DISABLED', undefined, { detail });
  }
  if (id === WEBTICKET_ERROR_IDS.badCredentials || a.status === 401 || /FailedAuthentication/.test(a.diagnostics?.fault ?? '')) {
    return new TetherError(method === 'pin' ? 'WEBTICKET_PIN_REJECTED' : 'NTLM_REJECTED', undefined, { detail });
  }
  if (a.status >= 500 && a.diagnostics === null) {
    return new TetherError('WEBTICKET_SERVICE_ERROR', `The Web Ticket service answered HTTP ${a.status}.${a.faultString ? ` Fault: ${a.faultString.slice(0, 200)}` : ''}`, { detail });
  }
  if (a.status === 200 && !a.envelope) {
    return new TetherError('WEBTICKET_BAD_RESPONSE', 'The Web Ticket service answered without a SOAP document.', { detail });
  }
  return new TetherError('WEBTICKET_REFUSED', `The Web Ticket service refused the request (HTTP ${a.status}${id === undefined ? '' : `, error ${id}`}).${say}`, { detail });
}
