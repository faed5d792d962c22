import { TetherError } from '../../../common/errors';
import { PIN_PORT_NAME } from '../../../common/pool/webticket-pin';
import { PORT_WIN_NEGOTIATE, PORT_WIN_NTLM, parseCertProvMex, portLocations } from '../../../common/pool/webticket-wire';
import { parseXml } from '../../../common/xml';
import type { PoolHttpClient } from '../net/http';
import { requireHttps } from './require-https';

/**
 * Finds where to authenticate for CertProv, the way SIPE does [S29 sipe-webticket.c]:
 * GET <CertProv>/mex → the WebTicketProof_SHA1 policy's issuer (WebTicket URL) and the CertProv
 * port to POST to; GET <WebTicket>/mex → one port per authentication method.
 */

export interface CertProvAuthEndpoints {
  /** The CertProv port GetAndPublishCert goes to (and the ticket's AppliesTo). */
  readonly certProvUrl: string;
  readonly webTicketUrl: string;
  /** The WebTicket ports by method; absent when the pool does not offer it. */
  readonly ports: { readonly pin?: string; readonly ntlm?: string; readonly negotiate?: string };
  readonly requiresSigning: boolean;
}

async function getMex(http: PoolHttpClient, url: string): Promise<ReturnType<typeof parseXml>> {
  const res = await http.request({ url, method: 'GET', stage: 'auth', idempotent: true });
  if (res.status !== 200) {
    throw new TetherError('WEBTICKET_BAD_RESPONSE', `The metadata at ${new URL(url).pathname} answered HTTP ${res.status}.`, {
      detail: { status: res.status },
    });
  }
  return parseXml(res.body, { stage: 'auth' });
}

/** `certProvBase` is the CertProvisioningService.svc URL (from DHCP option 43 / configuration). */
export async function discoverCertProvAuth(http: PoolHttpClient, certProvBase: string): Promise<CertProvAuthEndpoints> {
  const base = certProvBase.replace(/\/+$/, '');
  const mex = parseCertProvMex(await getMex(http, `${base}/mex`));
  // The mex decides where the PIN, password and ticket go: only ever to https addresses.
  requireHttps(mex.webTicketUrl, 'WEBTICKET_NOT_HTTPS', 'Web Ticket');
  requireHttps(mex.certProvUrl, 'CERTPROV_NOT_HTTPS', 'Certificate Provisioning');
  const ports = portLocations(await getMex(http, `${mex.webTicketUrl.replace(/\/+$/, '')}/mex`));
  const pin = ports.get(PIN_PORT_NAME.toLowerCase());
  const ntlm = ports.get(PORT_WIN_NTLM.toLowerCase());
  const negotiate = ports.get(PORT_WIN_NEGOTIATE.toLowerCase());
  return {
    certProvUrl: mex.certProvUrl,
    webTicketUrl: mex.webTicketUrl,
    ports: { ...(pin ? { pin } : {}), ...(ntlm ? { ntlm } : {}), ...(negotiate ? { negotiate } : {}) },
    requiresSigning: mex.requiresSigning,
  };
}
