/**
 * The anonymous CA-chain download of stage 6 — OUR MODEL (docs/pool/chain-download.md).
 *
 * Documented: the endpoint is the anonymous HTTP CertProv URL `CAHandlerInternalAnonUri`,
 * `http://<pool>/CertProv/CertProvisioningService.svc` [S24]; the phone downloads the root chain
 * there once it knows the Web Services address [S10], over port 80 [S36]; admins switch it with
 * `EnableCertChainDownload` / `TrustedCACerts` [S30]; clients understand PKCS#7 chains [S27].
 * Not published [U]: the operation and its message. Ours: `GET <that URL>?op=GetCertChain`,
 * answered with a certs-only PKCS#7 (DER, application/pkcs7-mime) or, when the client prefers
 * it in `Accept`, PEM certificates (application/x-pem-file). With download switched off the pool
 * answers 403 with an `X-Ms-diagnostics` header.
 */

export const CHAIN_PATH = '/CertProv/CertProvisioningService.svc';
export const CHAIN_QUERY_PARAM = 'op';
export const CHAIN_OPERATION = 'GetCertChain';
export const PKCS7_CONTENT_TYPE = 'application/pkcs7-mime';
export const PEM_CONTENT_TYPE = 'application/x-pem-file';
/** Largest chain document accepted: a chain is a few KiB; this leaves room for long chains. */
export const MAX_CHAIN_BYTES = 256 * 1024;
/** Most certificates accepted in one chain (root, intermediates, and a few spare trusted CAs). */
export const MAX_CHAIN_CERTS = 16;
/** Error id of the 403 diagnostics when download is off (OUR id; MS-OCER's list has none for it). */
export const CHAIN_DOWNLOAD_OFF_ERROR_ID = 28990;

/** The chain download URL for a pool FQDN (port 80 unless given) or an http(s) base URL. */
export function chainDownloadUrl(pool: string | { host: string; port?: number }): URL {
  let url: URL;
  if (typeof pool === 'string' && /^https?:\/\//i.test(pool)) {
    url = new URL(pool);
    url.pathname = CHAIN_PATH;
  } else {
    const host = typeof pool === 'string' ? pool : pool.host;
    const port = typeof pool === 'string' ? undefined : pool.port;
    url = new URL(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}${port === undefined ? '' : `:${port}`}${CHAIN_PATH}`);
  }
  url.search = '';
  url.hash = '';
  url.searchParams.set(CHAIN_QUERY_PARAM, CHAIN_OPERATION);
  return url;
}
