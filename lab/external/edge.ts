import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { PIN_PORT_NAME } from '../../common/pool/webticket-pin';
import { PORT_WIN_NEGOTIATE, PORT_WIN_NTLM, buildCertProvMex, buildWebTicketMex } from '../../common/pool/webticket-wire';
import type { LabCa, LabFaults, LabTls, LabUser, LabUsers, RouteHandler, RouteInfo } from '../context';
import { DeviceUpdateStore } from '../device-update/store';
import { deviceUpdateHandlers, FILES_EXTERNAL, UPX_EXTERNAL } from '../device-update/service';
import { startDnsServer, type LabDnsServer } from '../dns/server';
import { LabZone } from '../dns/zone';
import { startHttpsOnlyListener } from '../http/listeners';
import { dispatch, RouteTable } from '../http/routes';
import { sendSoap } from '../webservices/soap-http';
import { CERTPROV_PATH, CERTPROV_PROOF_PATH, NEGOTIATE_PATH, NTLM_PATH, PIN_PATH, WEBTICKET_PATH } from '../webservices';
import { externalSipTarget, externalWebServicesFqdn } from './names';

/**
 * The lab's external view: what a phone outside the corporate network sees of the same pool
 * (docs/lab.md "Views"). Its own DNS server answers the external zone (edge names only), and one
 * HTTPS-only listener plays the reverse proxy in front of the pool's external Web Services:
 * - CertProv and WebTicket metadata (mex) naming external URLs, and the WebTicket ports and the
 *   CertProv proof port handed through to the pool's own handlers (the same tickets, users, CA);
 * - `/RequestHandlerExt/ucdevice.upx`: anonymous requests are refused ("anonymous access is not
 *   supported" [S19]); a request over TLS with a client certificate the pool issued and published
 *   for an unlocked user is answered, with the external file URLs;
 * - `/RequestHandlerExt/Files/…`: the update files, handed through;
 * - nothing else: not the anonymous chain download (CAHandlerInternalAnonUri is internal only
 *   [S24]), not the admin endpoint. Plain HTTP on its port fails the TLS handshake (closed).
 * The SIP SRV records point at the pool's registrar under the edge name `sip.<domain>`.
 */

export interface ExternalViewOptions {
  readonly domain: string;
  readonly poolFqdn: string;
  readonly host: string;
  readonly dnsPort: number;
  readonly httpsPort: number;
  readonly stateDir: string;
  readonly ca: LabCa;
  readonly users: LabUsers;
  readonly faults: LabFaults;
  readonly tls: LabTls;
  /** The pool's route table, whose handlers the edge hands requests through to. */
  readonly poolRoutes: RouteTable;
  /** The pool's plain-HTTP base (the Device Update answer's internal BaseURL). */
  readonly poolHttpBase: string;
  readonly log: (message: string) => void;
}

export interface ExternalView {
  /** External Web Services FQDN, e.g. lyncext.contoso.test. */
  readonly fqdn: string;
  /** `https://<fqdn>:<port>` */
  readonly httpsBase: string;
  readonly httpsPort: number;
  /** `host:port` of the external DNS server. */
  readonly dnsServer: string;
  readonly dnsPort: number;
  readonly zone: LabZone;
  /** The external SIP SRV records follow the registrar's port (called with the internal zone's). */
  setSipPort(transport: 'tls' | 'tcp', port: number): void;
  /** The external endpoints for the lab's first line (`external` key). */
  endpoints(): Record<string, string | number>;
  close(): Promise<void>;
}

/** The published certificate of an unlocked user that the TLS client presented, or why not. */
export function certificateUser(socket: TLSSocket, users: LabUsers): { user: LabUser } | { refused: string } {
  const peer = socket.getPeerX509Certificate();
  if (!peer) return { refused: 'no client certificate (anonymous)' };
  if (!socket.authorized) return { refused: `the client certificate does not verify (${String(socket.authorizationError)})` };
  for (const user of users.all()) {
    const match = user.published.some((pem) => {
      try {
        return new X509Certificate(pem).raw.equals(peer.raw);
      } catch {
        return false;
      }
    });
    if (match) return users.isLocked(user) ? { refused: `${user.sipUri} is locked` } : { user };
  }
  return { refused: 'the client certificate is not published for any user' };
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(`${text}\n`, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...headers }).end(body);
}

export async function startExternalView(options: ExternalViewOptions): Promise<ExternalView> {
  const { domain, host, log } = options;
  const fqdn = externalWebServicesFqdn(domain);
  const zone = new LabZone({ domain, poolFqdn: options.poolFqdn, address: host, has: (f) => options.faults.has(f), view: 'external' });
  const routes = new RouteTable();
  const https = { http: false, https: true };
  const forward: RouteHandler = (req, res, info: RouteInfo) => dispatch(options.poolRoutes, req, res, info, log);
  let base = '';

  routes.add('GET', `${CERTPROV_PATH}/mex`, (_req, res) =>
    sendSoap(res, 200, buildCertProvMex({ webTicketUrl: `${base}${WEBTICKET_PATH}`, proofPortUrl: `${base}${CERTPROV_PROOF_PATH}` })), https);
  routes.add('GET', `${WEBTICKET_PATH}/mex`, (_req, res) =>
    sendSoap(
      res,
      200,
      buildWebTicketMex([
        { name: PORT_WIN_NEGOTIATE, location: `${base}${NEGOTIATE_PATH}` },
        { name: PORT_WIN_NTLM, location: `${base}${NTLM_PATH}` },
        { name: PIN_PORT_NAME, location: `${base}${PIN_PATH}` },
      ]),
    ), https);
  for (const path of [PIN_PATH, NTLM_PATH, NEGOTIATE_PATH, CERTPROV_PROOF_PATH]) routes.add('POST', path, forward, https);
  routes.add('GET', `${FILES_EXTERNAL}*`, forward, https);

  const store = await DeviceUpdateStore.open(options.stateDir);
  // Nothing else is published: the anonymous chain download, the admin endpoint and every other
  // pool handler answer 404 here (the route table's default).

  const dns: LabDnsServer = await startDnsServer(zone, host, options.dnsPort, log);
  let listener;
  try {
    listener = await startHttpsOnlyListener({
      host,
      port: options.httpsPort,
      what: 'external HTTPS',
      routes,
      faults: options.faults,
      tls: options.tls,
      log,
      clientCas: options.ca.chainPems(),
    });
  } catch (err) {
    await dns.close();
    throw err;
  }
  base = `https://${fqdn}:${listener.port}`;
  // Added once the port (the ExternalBaseURL's origin) is known; nobody knows the port before.
  const { upx } = deviceUpdateHandlers({ faults: options.faults, httpBase: options.poolHttpBase, httpsBase: base, log }, store);
  routes.add(
    'POST',
    UPX_EXTERNAL,
    async (req: IncomingMessage, res: ServerResponse) => {
      const who = certificateUser(req.socket as TLSSocket, options.users);
      if ('refused' in who) {
        req.resume();
        log(`external device-update: refused: ${who.refused}`);
        // Outside the firewall the service answers only devices that authenticate [S19].
        plain(res, 401, 'Anonymous access to the Device Update Web service is not supported; authenticate with the certificate issued at sign-in.');
        return;
      }
      log(`external device-update: ${who.user.sipUri} (certificate)`);
      await upx(req, res);
    },
    https,
  );
  const hostUrl = host.includes(':') ? `[${host}]` : host;
  const dnsServer = `${hostUrl}:${dns.port}`;
  const open = listener;
  return {
    fqdn,
    httpsBase: base,
    httpsPort: listener.port,
    dnsServer,
    dnsPort: dns.port,
    zone,
    setSipPort: (transport, port) => zone.setSipPort(transport, port),
    endpoints() {
      const sip = zone.lookup(`_sip._tls.${domain}`, 'SRV')[0];
      return {
        dns: dnsServer,
        https: base,
        webServices: `${base}${CERTPROV_PATH}`,
        webticket: `${base}${WEBTICKET_PATH}`,
        deviceUpdate: `${base}${UPX_EXTERNAL}`,
        ...(sip?.type === 'SRV' ? { sip: `sip:${externalSipTarget(domain)}:${sip.port};transport=tls` } : {}),
      };
    },
    async close() {
      await open.close();
      await dns.close();
    },
  };
}
