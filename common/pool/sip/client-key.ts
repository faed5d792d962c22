import { X509Certificate } from 'node:crypto';
import { TetherError } from '../../errors';
import { nodeErrorCode } from '../node-error-code';

/**
 * The smallest RSA key Tether presents as a TLS client certificate. OpenSSL 3.2 and later (Node 24
 * ships 3.5) refuse smaller ones at their default security level 2; Node 20's OpenSSL 3.0 (level 1)
 * would still offer RSA-1024. Tether keeps level 2 and applies the same rule on every runtime, so
 * the outcome does not depend on the Node it runs on (docs/virtual-phone.md, "Key size and TLS
 * security").
 */
export const MIN_CLIENT_RSA_BITS = 2048;

/** Node's codes when OpenSSL refuses our own certificate, key or chain as too weak. */
const WEAK_KEY = new Set(['ERR_SSL_EE_KEY_TOO_SMALL', 'ERR_SSL_CA_KEY_TOO_SMALL', 'ERR_SSL_CA_MD_TOO_WEAK']);

function tooSmall(who: string, reason: string, detail: Readonly<Record<string, string | number>>, cause?: unknown): TetherError {
  return new TetherError('REGISTRAR_KEY_TOO_SMALL', `${who} cannot use its certificate: its key or chain is too weak for TLS (${reason}). Use a ${MIN_CLIENT_RSA_BITS}-bit key.`, {
    detail,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * REGISTRAR_KEY_TOO_SMALL when the client certificate (PEM or DER) carries an RSA key under
 * MIN_CLIENT_RSA_BITS, else null (also for a certificate that cannot be read: TLS reports that).
 */
export function clientKeyTooSmall(certificate: string | Uint8Array, who: string): TetherError | null {
  let bits: number | undefined;
  try {
    const key = new X509Certificate(typeof certificate === 'string' ? certificate : Buffer.from(certificate)).publicKey;
    bits = key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss' ? key.asymmetricKeyDetails?.modulusLength : undefined;
  } catch {
    return null;
  }
  return bits !== undefined && bits < MIN_CLIENT_RSA_BITS ? tooSmall(who, `an RSA-${bits} key`, { keyBits: bits }) : null;
}

/** REGISTRAR_KEY_TOO_SMALL when OpenSSL refused our key or chain as too weak, else null. */
export function weakClientKeyError(err: unknown, who: string): TetherError | null {
  const code = nodeErrorCode(err);
  if (!WEAK_KEY.has(code)) return null;
  return tooSmall(who, err instanceof Error ? err.message : String(err), { nodeCode: code }, err);
}
