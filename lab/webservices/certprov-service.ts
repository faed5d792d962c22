import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabContext } from '../context';
import { readBody, sendText } from '../http/routes';
import {
  ERROR_INFO_CODES,
  buildGetAndPublishCertError,
  buildGetAndPublishCertResponse,
  parseGetAndPublishCertRequest,
  type ParsedGetAndPublishCert,
} from '../../common/pool/certprov-wire';
import { readPresentedTicket } from '../../common/pool/webticket-wire';
import { verifyTimestampSignature } from '../../common/pool/wss-proof';
import { parseXml } from '../../common/xml';
import { sendDiagnosticStatus, sendSoap } from './soap-http';
import type { TicketStore } from './ticket-store';
import { MAX_SOAP_BYTES } from './webticket-service';

/**
 * The lab's CertProvisioningService.svc GetAndPublishCert: checks the web ticket (and its signed
 * Timestamp), issues a client certificate from the phone's CSR with the lab CA, publishes it to
 * the user's store, and answers the certificate plus chain — or ErrorInfo, as [S26] requires.
 */

export interface CertProvServiceConfig {
  readonly ctx: LabContext;
  readonly tickets: TicketStore;
  /** Where a client without a ticket gets one (X-MS-WebTicketURL) [S27]. */
  readonly webTicketUrl: () => string;
  /** DefaultValidityPeriodHours [S30]. */
  readonly validityHours: number;
  readonly now: () => number;
}

const TICKET_DIAG = {
  missing: { errorId: 28200, reason: 'No web ticket was presented', fault: 'wsse:InvalidSecurity' },
  unknown: { errorId: 28201, reason: 'The web ticket is unknown or has expired', fault: 'wsse:InvalidSecurityToken' },
  audience: { errorId: 28202, reason: 'The web ticket is for another service', fault: 'wsse:InvalidSecurityToken' },
  signature: { errorId: 28203, reason: 'The proof-of-possession signature is missing or wrong', fault: 'wsse:FailedCheck' },
  timestamp: { errorId: 28204, reason: 'The security timestamp has expired', fault: 'wsu:MessageExpired' },
} as const;

export function getAndPublishCertHandler(cfg: CertProvServiceConfig) {
  return async (req: IncomingMessage, res: ServerResponse, info: { url: URL }): Promise<void> => {
    const { ctx } = cfg;
    let request: ParsedGetAndPublishCert;
    try {
      const body = await readBody(req, MAX_SOAP_BYTES);
      request = parseGetAndPublishCertRequest(parseXml(body, { stage: 'certificate' }));
    } catch (err) {
      const status = (err as { status?: number }).status === 413 ? 413 : 400;
      sendText(res, status, `Bad Request: ${(err as Error).message}`);
      return;
    }
    const unauthorized = (d: (typeof TICKET_DIAG)[keyof typeof TICKET_DIAG]) =>
      sendDiagnosticStatus(res, 401, ctx.poolFqdn, d, { 'X-MS-WebTicketURL': cfg.webTicketUrl() });

    const presented = request.security ? readPresentedTicket(request.security) : undefined;
    if (!presented) return unauthorized(TICKET_DIAG.missing);
    const ticket = cfg.tickets.get(presented.assertionId);
    if (!ticket) return unauthorized(TICKET_DIAG.unknown);
    if (ticket.appliesToPath !== info.url.pathname) return unauthorized(TICKET_DIAG.audience);
    if (ticket.proofKey) {
      // Holder-of-key: the Timestamp must be signed with the proof key derived from both entropies.
      if (!presented.timestamp || !presented.signature || presented.signature.keyIdentifier !== ticket.assertionId) {
        return unauthorized(TICKET_DIAG.signature);
      }
      const check = verifyTimestampSignature(ticket.proofKey, { ...presented.timestamp, ...presented.signature });
      if (check !== 'ok') return unauthorized(TICKET_DIAG.signature);
    }
    if (presented.timestamp && !(Date.parse(presented.timestamp.expires) > cfg.now())) return unauthorized(TICKET_DIAG.timestamp);

    const user = ctx.users.bySipUri(ticket.sipUri);
    if (!user || request.entity.toLowerCase() !== user.sipUri.replace(/^sip:/i, '').toLowerCase()) {
      sendSoap(res, 200, buildGetAndPublishCertError({ code: ERROR_INFO_CODES.entityMismatch, message: 'Entity does not match the web ticket\'s user' }));
      return;
    }
    let certificatePem: string;
    try {
      certificatePem = ctx.ca.issueFromCsr(request.csrPem, user.sipUri, cfg.validityHours);
    } catch (err) {
      sendSoap(res, 200, buildGetAndPublishCertError({ code: ERROR_INFO_CODES.csrRejected, message: (err as Error).message }));
      return;
    }
    if (ctx.faults.has('publish-store-unavailable')) {
      // [S12]: the CSR is signed but publishing to the User Services store fails.
      ctx.log(`certprov: issued for ${user.sipUri} but the data store is unavailable`);
      sendSoap(res, 200, buildGetAndPublishCertError({ code: ERROR_INFO_CODES.publishFailed, message: 'Unable to publish the certificate: data store unavailable' }));
      return;
    }
    ctx.users.publish(user, certificatePem, request.deviceId);
    ctx.log(`certprov: issued and published a certificate for ${user.sipUri} (device ${request.deviceId})`);
    sendSoap(
      res,
      200,
      buildGetAndPublishCertResponse({ certificatePem, chainPems: ctx.ca.chainPems(), ...(request.requestId ? { requestId: request.requestId } : {}) }),
    );
  };
}
