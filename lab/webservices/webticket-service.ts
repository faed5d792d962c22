import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabContext, LabUser } from '../context';
import { readBody, sendText } from '../http/routes';
import { NtlmHttpAcceptor } from '../../common/pool/ntlm';
import { readPinCredentials } from '../../common/pool/webticket-pin';
import {
  WEBTICKET_ERROR_IDS,
  buildWebTicketResponse,
  parseWebTicketRequest,
  type ParsedWebTicketRequest,
} from '../../common/pool/webticket-wire';
import { parseXml } from '../../common/xml';
import { sendDiagnosticFault, sendDiagnosticStatus, sendSoap, type Diagnostic } from './soap-http';
import type { TicketStore } from './ticket-store';

/**
 * The lab's WebTicketService.svc: issues SAML web tickets for the CertProv endpoint after PIN
 * (OUR MODEL, docs/pool/webticket-pin.md) or NTLM (RFC 4559) authentication.
 */

export const MAX_SOAP_BYTES = 256 * 1024;

export const DIAG = {
  badPin: { errorId: WEBTICKET_ERROR_IDS.badCredentials, reason: 'Invalid phone number, extension or PIN', fault: 'wsse:FailedAuthentication' },
  locked: { errorId: WEBTICKET_ERROR_IDS.accountLocked, reason: 'The account is locked out after too many bad PINs', fault: 'wsse:FailedAuthentication' },
  pinDisabled: { errorId: WEBTICKET_ERROR_IDS.methodDisabled, reason: 'PIN authentication is disabled', fault: 'wsse:UnsupportedSecurityToken' },
  ntlmDisabled: { errorId: WEBTICKET_ERROR_IDS.methodDisabled, reason: 'Windows authentication is disabled', fault: 'wsse:UnsupportedSecurityToken' },
  badNtlm: { errorId: WEBTICKET_ERROR_IDS.badCredentials, reason: 'Invalid Windows credentials', fault: 'wsse:FailedAuthentication' },
  unknownUser: { errorId: WEBTICKET_ERROR_IDS.unknownUser, reason: 'The user is not enabled for Lync', fault: 'wsse:FailedAuthentication' },
  badAppliesTo: { errorId: WEBTICKET_ERROR_IDS.unknownAppliesTo, reason: 'The ticket is asked for an unknown service', fault: 'wst:InvalidRequest' },
} as const satisfies Record<string, Diagnostic>;

export interface WebTicketServiceConfig {
  readonly ctx: LabContext;
  readonly tickets: TicketStore;
  /** URL paths a ticket may apply to (the CertProv proof port). */
  readonly audiences: readonly string[];
  readonly usePinAuth: () => boolean;
}

/** Reads and parses a SOAP RST; answers 400/413 itself and returns undefined on bad input. */
export async function readRst(req: IncomingMessage, res: ServerResponse): Promise<ParsedWebTicketRequest | undefined> {
  let body: Buffer;
  try {
    body = await readBody(req, MAX_SOAP_BYTES);
  } catch {
    sendText(res, 413, 'Request Entity Too Large');
    return undefined;
  }
  try {
    return parseWebTicketRequest(parseXml(body, { stage: 'auth' }));
  } catch (err) {
    sendText(res, 400, `Bad Request: ${(err as Error).message}`);
    return undefined;
  } finally {
    body.fill(0); // may hold a PIN
  }
}

/**
 * The Issuer a ticket names: the service endpoint on the pool's name and the lab's HTTPS port,
 * never the Host header (with or without a port, a name or an address, it is the client's choice).
 */
export function issuerUrl(ctx: LabContext, requestUrl: URL): string {
  return `${ctx.httpsBase}${requestUrl.pathname}`;
}

/** Issues a ticket for `user` and answers the RSTR; or a fault when the request asks for a foreign service. */
export function answerWithTicket(cfg: WebTicketServiceConfig, res: ServerResponse, rst: ParsedWebTicketRequest, user: LabUser, issuerUrl: string): void {
  let audience: string;
  try {
    audience = new URL(rst.appliesTo).pathname;
  } catch {
    audience = '';
  }
  if (!cfg.audiences.includes(audience)) {
    sendDiagnosticFault(res, cfg.ctx.poolFqdn, DIAG.badAppliesTo);
    return;
  }
  const ticket = cfg.tickets.issue({ sipUri: user.sipUri, appliesToPath: audience, clientEntropy: rst.entropy });
  cfg.ctx.log(`webticket: issued a ticket for ${user.sipUri}`);
  sendSoap(
    res,
    200,
    buildWebTicketResponse({
      context: rst.context,
      assertionId: ticket.assertionId,
      issuer: issuerUrl,
      sipUri: user.sipUri,
      appliesTo: rst.appliesTo,
      created: ticket.created,
      expires: ticket.expires,
      serverEntropy: ticket.serverEntropy,
    }),
  );
}

/** POST …/WebTicketServicePin: number/extension + PIN, with lockout. */
export function pinHandler(cfg: WebTicketServiceConfig) {
  return async (req: IncomingMessage, res: ServerResponse, info: { url: URL }): Promise<void> => {
    const { ctx } = cfg;
    if (!cfg.usePinAuth()) {
      req.resume();
      sendDiagnosticStatus(res, 403, ctx.poolFqdn, DIAG.pinDisabled);
      return;
    }
    const rst = await readRst(req, res);
    if (!rst) return;
    const creds = rst.security ? readPinCredentials(rst.security) : undefined;
    if (!creds) {
      sendDiagnosticFault(res, ctx.poolFqdn, DIAG.badPin);
      return;
    }
    const user = ctx.users.byPhoneOrExtension(creds.phoneOrExt);
    // An unknown number looks exactly like a bad PIN, so numbers cannot be probed.
    const verdict = user ? ctx.users.checkPin(user, creds.pin) : 'bad-pin';
    if (!user || verdict === 'bad-pin') {
      ctx.log(`webticket: bad PIN for ${user ? user.sipUri : 'an unknown number'}`);
      sendDiagnosticFault(res, ctx.poolFqdn, DIAG.badPin);
      return;
    }
    if (verdict === 'locked') {
      ctx.log(`webticket: ${user.sipUri} is locked out`);
      sendDiagnosticFault(res, ctx.poolFqdn, DIAG.locked);
      return;
    }
    if (rst.sipUri !== undefined && rst.sipUri.toLowerCase() !== user.sipUri.toLowerCase()) {
      sendDiagnosticFault(res, ctx.poolFqdn, DIAG.badPin);
      return;
    }
    answerWithTicket(cfg, res, rst, user, issuerUrl(cfg.ctx, info.url));
  };
}

/**
 * POST …/WebTicketServiceWinNtlm and …/WinNegotiate: RFC 4559 NTLMv2 verified for real against
 * the user's stored password (common/pool/ntlm), bound to the connection as IIS does; then the RST.
 */
export function ntlmHandler(cfg: WebTicketServiceConfig & { useWindowsAuth: () => boolean; offerNegotiate: boolean }) {
  const { ctx } = cfg;
  const label = (s: string) => (s.split('.')[0] ?? s).toUpperCase().slice(0, 15);
  const acceptor = new NtlmHttpAcceptor(
    { nbDomainName: label(ctx.domain), nbComputerName: label(ctx.poolFqdn), dnsDomainName: ctx.domain, dnsComputerName: ctx.poolFqdn },
    (domain, user) => {
      const u = ctx.users.byNtlm(domain, user);
      return u ? { password: u.password } : undefined;
    },
  );
  return async (req: IncomingMessage, res: ServerResponse, info: { url: URL }): Promise<void> => {
    if (!cfg.useWindowsAuth()) {
      req.resume();
      sendDiagnosticStatus(res, 403, ctx.poolFqdn, DIAG.ntlmDisabled);
      return;
    }
    const step = acceptor.step(req.socket, req.headers.authorization);
    if (step.kind !== 'authenticated') {
      req.resume(); // drain the body so the connection stays usable for the next leg
      const offers = step.kind === 'challenge' && cfg.offerNegotiate && step.header === 'NTLM' ? ['Negotiate', 'NTLM'] : [step.header];
      if (step.kind === 'rejected') {
        ctx.log(`webticket: NTLM rejected for ${step.domain}\\${step.user} (${step.reason})`);
        sendDiagnosticStatus(res, 401, ctx.poolFqdn, DIAG.badNtlm, { 'WWW-Authenticate': step.header });
        return;
      }
      res.setHeader('WWW-Authenticate', offers);
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 13 });
      res.end('Unauthorized\n');
      return;
    }
    const user = ctx.users.byNtlm(step.domain, step.user);
    const rst = await readRst(req, res);
    if (!rst) return;
    if (!user || (rst.sipUri !== undefined && rst.sipUri.toLowerCase() !== user.sipUri.toLowerCase())) {
      // Authenticated, but not as the SIP user the Claims name.
      sendDiagnosticFault(res, ctx.poolFqdn, DIAG.unknownUser);
      return;
    }
    answerWithTicket(cfg, res, rst, user, issuerUrl(cfg.ctx, info.url));
  };
}
