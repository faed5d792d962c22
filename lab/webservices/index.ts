import type { LabService } from '../context';
import { PIN_PORT_NAME, PIN_PORT_SUFFIX } from '../../common/pool/webticket-pin';
import { PORT_CERTPROV_PROOF, PORT_WIN_NEGOTIATE, PORT_WIN_NTLM, buildCertProvMex, buildWebTicketMex } from '../../common/pool/webticket-wire';
import { getAndPublishCertHandler } from './certprov-service';
import { sendSoap } from './soap-http';
import { createTicketStore } from './ticket-store';
import { ntlmHandler, pinHandler, type WebTicketServiceConfig } from './webticket-service';

/**
 * Lab Web Services for stages 7–8 (docs/pool/certprov.md): WebTicketService.svc (PIN and NTLM
 * ports, mex) and CertProvisioningService.svc (GetAndPublishCert, mex), HTTPS only.
 * Paths under the .svc files are OUR MODEL; clients find them through the mex documents.
 */

export const WEBTICKET_PATH = '/WebTicket/WebTicketService.svc';
export const CERTPROV_PATH = '/CertProv/CertProvisioningService.svc';
export const CERTPROV_PROOF_PATH = `${CERTPROV_PATH}/${PORT_CERTPROV_PROOF}`;
export const PIN_PATH = `${WEBTICKET_PATH}${PIN_PORT_SUFFIX}`;
export const NTLM_PATH = `${WEBTICKET_PATH}/${PORT_WIN_NTLM}`;
export const NEGOTIATE_PATH = `${WEBTICKET_PATH}/${PORT_WIN_NEGOTIATE}`;

export interface WebServicesOptions {
  /** Web ticket lifetime (default 8 hours). */
  ticketLifetimeMs?: number;
  /** Issued certificate validity, DefaultValidityPeriodHours (default 4320 = 180 days) [S30]. */
  certValidityHours?: number;
  /** UsePinAuth [S30]; false answers 403 on the PIN port. */
  usePinAuth?: boolean;
  /** UseWindowsAuth [S30]; false answers 403 on the NTLM ports. */
  useWindowsAuth?: boolean;
  now?: () => number;
}

export function createWebServices(options: WebServicesOptions = {}): LabService {
  return {
    name: 'webservices',
    async start(ctx) {
      const now = options.now ?? Date.now;
      const tickets = createTicketStore({ lifetimeMs: options.ticketLifetimeMs ?? 8 * 3600_000, now });
      const webTicketUrl = `${ctx.httpsBase}${WEBTICKET_PATH}`;
      const wt: WebTicketServiceConfig = {
        ctx,
        tickets,
        audiences: [CERTPROV_PROOF_PATH],
        usePinAuth: () => options.usePinAuth ?? true,
      };
      const https = { http: false, https: true };

      ctx.routes.add(
        'GET',
        `${CERTPROV_PATH}/mex`,
        (_req, res) => sendSoap(res, 200, buildCertProvMex({ webTicketUrl, proofPortUrl: `${ctx.httpsBase}${CERTPROV_PROOF_PATH}` })),
        https,
      );
      ctx.routes.add(
        'POST',
        CERTPROV_PROOF_PATH,
        getAndPublishCertHandler({ ctx, tickets, webTicketUrl: () => webTicketUrl, validityHours: options.certValidityHours ?? 4320, now }),
        https,
      );
      ctx.routes.add(
        'GET',
        `${WEBTICKET_PATH}/mex`,
        (_req, res) =>
          sendSoap(
            res,
            200,
            buildWebTicketMex([
              { name: PORT_WIN_NEGOTIATE, location: `${ctx.httpsBase}${NEGOTIATE_PATH}` },
              { name: PORT_WIN_NTLM, location: `${ctx.httpsBase}${NTLM_PATH}` },
              { name: PIN_PORT_NAME, location: `${ctx.httpsBase}${PIN_PATH}` },
            ]),
          ),
        https,
      );
      ctx.routes.add('POST', PIN_PATH, pinHandler(wt), https);
      const useWindowsAuth = () => options.useWindowsAuth ?? true;
      ctx.routes.add('POST', NTLM_PATH, ntlmHandler({ ...wt, useWindowsAuth, offerNegotiate: false }), https);
      ctx.routes.add('POST', NEGOTIATE_PATH, ntlmHandler({ ...wt, useWindowsAuth, offerNegotiate: true }), https);

      return {
        endpoints: { certprov: `${ctx.httpsBase}${CERTPROV_PATH}`, webticket: webTicketUrl },
        async stop() {
          tickets.clear();
        },
      };
    },
  };
}

export const webServices: LabService = createWebServices();
