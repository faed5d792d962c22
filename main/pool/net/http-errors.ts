import { TetherError, entryFor, type ErrorCode, type ErrorDetail } from '../../../common/errors';
import { nodeErrorCode } from '../../../common/pool/node-error-code';
import type { StageId } from '../../../common/stages';

// OpenSSL verification codes, grouped by the fault a person can fix.
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CRL_HAS_EXPIRED']);
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
]);

/** Maps a Node socket/TLS/HTTP-parser error to the transport code a person can act on. */
export function transportCodeFor(err: unknown): ErrorCode {
  const code = nodeErrorCode(err);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') return 'HTTP_DNS_FAILED';
  if (code === 'ECONNREFUSED') return 'HTTP_CONNECT_REFUSED';
  if (EXPIRED.has(code)) return 'TLS_CERT_EXPIRED';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return 'TLS_CERT_NAME_MISMATCH';
  if (UNTRUSTED.has(code)) return 'TLS_CERT_UNTRUSTED';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') return 'TLS_HANDSHAKE_FAILED';
  if (code.startsWith('HPE_')) return 'HTTP_PROTOCOL_ERROR';
  // ECONNRESET, EHOSTUNREACH, "socket hang up" and anything unknown: the connection failed.
  return 'HTTP_CONNECT_FAILED';
}

/** Wraps a Node error as a typed transport error of the caller's stage. */
export function transportError(err: unknown, stage: StageId, detail: ErrorDetail): TetherError {
  if (err instanceof TetherError) return err;
  const code = transportCodeFor(err);
  const nodeCode = nodeErrorCode(err);
  const reason = err instanceof Error ? err.message : String(err);
  // The summary plus where: a person reading one line needs the server it was about.
  const target = typeof detail.url === 'string' ? ` (${detail.url})` : '';
  return new TetherError(code, `${entryFor(code).summary}${target}`, {
    stage,
    detail: { ...detail, ...(nodeCode ? { nodeCode } : {}), reason },
    cause: err,
  });
}

/** Errors a retry may cure (the network or the server had a moment); certificate faults never are. */
export function isRetryable(err: TetherError): boolean {
  return err.code === 'HTTP_CONNECT_REFUSED' || err.code === 'HTTP_CONNECT_FAILED' || err.code === 'HTTP_TIMEOUT' || err.code === 'HTTP_SERVER_ERROR';
}
