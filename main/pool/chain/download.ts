import { TetherError } from '../../../common/errors';
import { parseMsDiagnosticsHeader } from '../../../common/pool/ms-diagnostics';
import { decodePemCertificates, decodePkcs7Certificates } from '../../../common/pool/chain/pkcs7';
import { chainDownloadUrl, MAX_CHAIN_BYTES, PEM_CONTENT_TYPE, PKCS7_CONTENT_TYPE } from '../../../common/pool/chain/wire';
import { headerValue, type PoolHttpClient } from '../net/http';

/**
 * Downloads the pool's CA chain from the anonymous CertProv endpoint (OUR MODEL of the operation,
 * docs/pool/chain-download.md) and returns its certificates as DER. Failures become the stage-6
 * errors of the troubleshooting topic [S10]: the address does not answer → "Unable to locate
 * Lync Certificate Web service"; download switched off → "Error downloading certificate chain".
 */

export interface ChainDocument {
  readonly url: string;
  readonly contentType: string;
  readonly certificates: Uint8Array[];
}

const UNREACHABLE = new Set(['HTTP_DNS_FAILED', 'HTTP_CONNECT_REFUSED', 'HTTP_CONNECT_FAILED', 'HTTP_TIMEOUT', 'HTTP_SERVER_ERROR', 'HTTP_BAD_URL']);

/** Reads a chain answer by its content type, falling back to sniffing (DER starts with 0x30). */
export function parseChainDocument(body: Uint8Array, contentType: string): Uint8Array[] {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const looksPem = new TextDecoder('latin1').decode(body.subarray(0, 64)).includes('-----BEGIN');
  if (type === PEM_CONTENT_TYPE || type === 'application/x-x509-ca-cert' || type === 'text/plain' || looksPem) {
    return decodePemCertificates(new TextDecoder('utf-8').decode(body));
  }
  if (type === PKCS7_CONTENT_TYPE || type === 'application/x-pkcs7-certificates' || type === 'application/pkcs7' || body[0] === 0x30) {
    return decodePkcs7Certificates(body);
  }
  throw new TetherError('CHAIN_MALFORMED', `The chain download answered '${type || 'no content type'}', not certificates.`, {
    detail: { reason: 'content-type', contentType: type.slice(0, 100) },
  });
}

export interface DownloadOptions {
  /** Pool FQDN (http on port 80), `{ host, port }`, or an http(s) base URL. */
  readonly pool: string | { host: string; port?: number };
  readonly http: PoolHttpClient;
  /** Ask for PEM instead of PKCS#7 (both are understood either way). */
  readonly preferPem?: boolean;
  readonly signal?: AbortSignal;
}

export async function downloadChainDocument(options: DownloadOptions): Promise<ChainDocument> {
  let url: URL;
  try {
    url = chainDownloadUrl(options.pool);
  } catch (cause) {
    const given = typeof options.pool === 'string' ? options.pool : `${options.pool.host}:${options.pool.port ?? 80}`;
    throw new TetherError('BAD_INPUT', `'${given.slice(0, 100)}' is not a pool name or Web Services address.`, { stage: 'ca-chain', cause });
  }
  const where = { url: `${url.origin}${url.pathname}` };
  let res;
  try {
    res = await options.http.request({
      url,
      stage: 'ca-chain',
      headers: { accept: options.preferPem ? `${PEM_CONTENT_TYPE}, ${PKCS7_CONTENT_TYPE};q=0.5` : `${PKCS7_CONTENT_TYPE}, ${PEM_CONTENT_TYPE};q=0.5` },
      maxResponseBytes: MAX_CHAIN_BYTES,
      acceptStatus: () => true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof TetherError && UNREACHABLE.has(err.code)) {
      throw new TetherError('CHAIN_SERVICE_UNREACHABLE', `Unable to locate Lync Certificate Web service at ${where.url}: ${err.message}`, {
        detail: { ...where, transport: err.code, ...('nodeCode' in err.detail ? { nodeCode: err.detail.nodeCode } : {}) },
        cause: err,
      });
    }
    if (err instanceof TetherError && err.code === 'HTTP_RESPONSE_TOO_LARGE') {
      throw new TetherError('CHAIN_MALFORMED', `The chain download answered more than ${MAX_CHAIN_BYTES} bytes.`, { detail: { ...where, reason: 'too-large' }, cause: err });
    }
    throw err;
  }
  const diagnostics = parseMsDiagnosticsHeader(headerValue(res.headers, 'x-ms-diagnostics'));
  const diag: Record<string, string | number | null> = diagnostics ? { msDiagnostics: diagnostics.errorId, msReason: diagnostics.reason } : {};
  if (res.status === 403) {
    throw new TetherError('CHAIN_DOWNLOAD_OFF', 'Error downloading certificate chain from OCS Registrar. Please try again.', {
      detail: { ...where, status: res.status, ...diag },
    });
  }
  if (res.status !== 200) {
    throw new TetherError('CHAIN_SERVICE_UNREACHABLE', `Unable to locate Lync Certificate Web service: ${where.url} answered HTTP ${res.status}.`, {
      detail: { ...where, status: res.status, ...diag },
    });
  }
  const contentType = headerValue(res.headers, 'content-type') ?? '';
  return { url: url.toString(), contentType, certificates: parseChainDocument(res.body, contentType) };
}
