import { TetherError } from '../../../common/errors';
import { requestWebTicket, type WebTicketAuth } from '../auth/webticket';
import { discoverCertProvAuth, type CertProvAuthEndpoints } from '../auth/webticket-discovery';
import type { PoolHttpClient } from '../net/http';
import { getAndPublishCert, type IssuedCertificate } from './get-and-publish-cert';

/**
 * Stages 7 and 8 in one call, for the bootstrap pipeline and `tether test-bootstrap`:
 * mex discovery → web ticket (PIN or NTLM) → GetAndPublishCert. Failures keep their own stage
 * (7 'auth' for discovery and the ticket, 8 'certificate' for the certificate).
 */

export interface ProvisionOptions {
  readonly http: PoolHttpClient;
  /** CertProvisioningService.svc URL (DHCP option 43 / configuration). */
  readonly certProvBase: string;
  readonly auth: WebTicketAuth;
  /** Required with NTLM; with PIN the ticket names the user. */
  readonly sipUri?: string;
  /**
   * The phone's PKCS#10 request, or a function that makes it once the user is known (the phone
   * puts the SIP URI in the subject).
   */
  readonly csr: string | ((sipUri: string) => string | Promise<string>);
  readonly deviceId: string;
  /** Called as each stage starts, e.g. to report progress. */
  readonly onStage?: (stage: 'auth' | 'certificate') => void;
}

export interface ProvisionResult extends IssuedCertificate {
  readonly sipUri: string;
  readonly method: WebTicketAuth['kind'];
  readonly endpoints: CertProvAuthEndpoints;
}

export async function provisionCertificate(opts: ProvisionOptions): Promise<ProvisionResult> {
  opts.onStage?.('auth');
  const endpoints = await discoverCertProvAuth(opts.http, opts.certProvBase);
  const port = opts.auth.kind === 'pin' ? endpoints.ports.pin : (endpoints.ports.ntlm ?? endpoints.ports.negotiate);
  if (!port) {
    throw new TetherError(opts.auth.kind === 'pin' ? 'WEBTICKET_METHOD_DISABLED' : 'NTLM_NOT_OFFERED', undefined, {
      detail: { webTicketUrl: endpoints.webTicketUrl, method: opts.auth.kind },
    });
  }
  const ticket = await requestWebTicket({
    http: opts.http,
    url: port,
    appliesTo: endpoints.certProvUrl,
    auth: opts.auth,
    ...(opts.sipUri === undefined ? {} : { sipUri: opts.sipUri }),
  });
  try {
    const sipUri = ticket.sipUri ?? opts.sipUri;
    if (sipUri === undefined) throw new TetherError('WEBTICKET_BAD_RESPONSE', 'The web ticket does not name the user; give the SIP address.');
    opts.onStage?.('certificate');
    const csrPem = typeof opts.csr === 'string' ? opts.csr : await opts.csr(sipUri);
    const issued = await getAndPublishCert({ http: opts.http, url: endpoints.certProvUrl, ticket, csrPem, deviceId: opts.deviceId, entity: sipUri });
    return { ...issued, sipUri, method: opts.auth.kind, endpoints };
  } finally {
    ticket.dispose();
  }
}
