import forge from 'node-forge';
import { TetherError } from '../../common/errors';

/** Smallest request key the lab accepts (MinCSRKeySize's lower bound, [S30]). */
export const MIN_CSR_KEY_BITS = 1024;
/** Requests bigger than this are refused before parsing (a 16384-bit RSA request is ~5 KB). */
const MAX_CSR_CHARS = 64 * 1024;

export interface ParsedCsr {
  publicKey: forge.pki.rsa.PublicKey;
  keyBits: number;
  /** The subject's CN, when it has one (for logs; the lab names the certificate after the user). */
  commonName: string | undefined;
}

/**
 * Reads a PKCS#10 request given as PEM, or as bare base64 of the DER (as GetAndPublishCert carries
 * it in a BinarySecurityToken), and checks its self-signature against its own public key.
 */
export function parseCsr(input: string): ParsedCsr {
  if (input.length > MAX_CSR_CHARS) {
    throw new TetherError('LAB_CSR_INVALID', 'The certificate request is too large.', { detail: { chars: input.length } });
  }
  // Some tools still write the older 'NEW CERTIFICATE REQUEST' label; forge accepts only the RFC 7468 one.
  const pem = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(input)
    ? input.replace(/-----(BEGIN|END) NEW CERTIFICATE REQUEST-----/g, '-----$1 CERTIFICATE REQUEST-----')
    : wrapBase64(input);
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(pem);
  } catch (err) {
    throw new TetherError('LAB_CSR_INVALID', `The certificate request cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const publicKey = csr.publicKey as forge.pki.rsa.PublicKey | null;
  if (!publicKey || typeof publicKey.n?.bitLength !== 'function') {
    throw new TetherError('LAB_CSR_INVALID', 'The certificate request has no RSA public key.');
  }
  const keyBits = publicKey.n.bitLength();
  if (keyBits < MIN_CSR_KEY_BITS) {
    throw new TetherError('LAB_CSR_INVALID', `The request's key has ${keyBits} bits; at least ${MIN_CSR_KEY_BITS} are needed.`, {
      detail: { keyBits },
    });
  }
  let verified: boolean;
  try {
    verified = csr.verify();
  } catch (err) {
    // forge throws for an unknown algorithm (a request we cannot check) and for a signature that
    // does not decrypt to a valid PKCS#1 block under the key (a request that fails the check).
    const message = (err as Error).message;
    if (/OID/i.test(message)) {
      throw new TetherError('LAB_CSR_INVALID', `The request's signature cannot be checked: ${message}`, { cause: err });
    }
    throw new TetherError('LAB_CSR_SIGNATURE', undefined, { cause: err });
  }
  if (!verified) throw new TetherError('LAB_CSR_SIGNATURE');
  const cn = csr.subject.getField('CN') as { value?: unknown } | null;
  return { publicKey, keyBits, commonName: typeof cn?.value === 'string' ? cn.value : undefined };
}

function wrapBase64(input: string): string {
  const b64 = input.replace(/\s+/g, '');
  if (b64.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new TetherError('LAB_CSR_INVALID', 'The certificate request is neither PEM nor base64.');
  }
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}
