import type { LookupFunction } from 'node:net';
import { connect, type PeerCertificate, type DetailedPeerCertificate } from 'node:tls';
import { TetherError } from '../../../common/errors';
import { nodeErrorCode } from '../../../common/pool/node-error-code';

/**
 * Connects to the pool's TLS endpoint trusting ONLY the downloaded chain (Node's `ca` replaces the
 * default store), with full verification including the host name. Success proves the pool's
 * certificate chains to what was downloaded; we then read back what the server sent so the pure
 * check can pick up intermediates the download lacked. Verification is never relaxed: when the
 * server cannot be verified, the OpenSSL reason becomes a typed stage-6 error.
 */

export interface TlsEndpoint {
  readonly host: string;
  readonly port: number;
  /** Name to verify and send as SNI; default `host`. */
  readonly servername?: string;
}

export interface ServerCheckOptions {
  readonly caPems: readonly string[];
  readonly lookup?: LookupFunction;
  readonly timeoutMs?: number;
}

// OpenSSL's "no issuer for this certificate among what I trust and what was sent".
const NO_ISSUER = new Set(['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ETIMEDOUT']);

export function serverCheckError(err: unknown, endpoint: TlsEndpoint): TetherError {
  const code = nodeErrorCode(err);
  const where = { server: `${endpoint.servername ?? endpoint.host}:${endpoint.port}`, tlsError: code || 'unknown' };
  if (NO_ISSUER.has(code)) {
    return new TetherError(
      'CHAIN_INTERMEDIATE_MISSING',
      `The pool's TLS certificate does not chain to the downloaded CA chain (${code}): an intermediate CA is missing from both.`,
      { detail: { ...where, where: 'server' }, cause: err },
    );
  }
  if (UNREACHABLE.has(code)) {
    return new TetherError('CHAIN_SERVICE_UNREACHABLE', `Could not reach the pool's TLS endpoint ${where.server} to check its certificate (${code}).`, {
      detail: { ...where, phase: 'server-check' },
      cause: err,
    });
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new TetherError('CHAIN_SERVER_MISMATCH', `The pool's TLS certificate could not be verified with the downloaded chain: ${reason}`, {
    detail: { ...where, reason: reason.slice(0, 300) },
    cause: err,
  });
}

function peerChain(cert: DetailedPeerCertificate): Buffer[] {
  const out: Buffer[] = [];
  let at: PeerCertificate | DetailedPeerCertificate | undefined = cert;
  const seen = new Set<string>();
  while (at && at.raw && !seen.has(at.fingerprint256)) {
    seen.add(at.fingerprint256);
    out.push(at.raw);
    at = 'issuerCertificate' in at ? at.issuerCertificate : undefined;
  }
  return out;
}

/** Verifies `endpoint` with the downloaded chain as the only trust; returns the certificates it presented (leaf first). */
export function verifyServerWithChain(endpoint: TlsEndpoint, options: ServerCheckOptions): Promise<Buffer[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      servername: endpoint.servername ?? endpoint.host,
      ca: [...options.caPems],
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new TetherError('CHAIN_SERVICE_UNREACHABLE', `The pool's TLS endpoint did not complete a handshake within ${timeoutMs} ms.`, {
          detail: { server: `${endpoint.servername ?? endpoint.host}:${endpoint.port}`, phase: 'server-check', timeoutMs },
        }),
      );
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain = peerChain(socket.getPeerCertificate(true));
      socket.end();
      resolve(chain);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(serverCheckError(err, endpoint));
    });
  });
}
