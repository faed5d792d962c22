import forge from 'node-forge';
import { TetherError } from '../../common/errors';
import { checkCsrDer, csrDerFromText, CSR_KEY_BITS, type CsrKeyBounds } from '../../common/pool/csr-check';

/** Smallest request key the lab accepts (MinCSRKeySize's lower bound, [S30]). */
export const MIN_CSR_KEY_BITS = CSR_KEY_BITS.min;
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
 * it in a BinarySecurityToken). The key is bounded and the self-signature checked by the shared
 * check (common/pool/csr-check.ts: size and exponent first, then Node's crypto); forge only reads
 * the already-checked request for the key and subject the lab certifies.
 */
export function parseCsr(input: string, bounds: CsrKeyBounds = { minBits: MIN_CSR_KEY_BITS, maxBits: CSR_KEY_BITS.max }): ParsedCsr {
  if (input.length > MAX_CSR_CHARS) {
    throw new TetherError('LAB_CSR_INVALID', 'The certificate request is too large.', { detail: { chars: input.length, problem: 'malformed' } });
  }
  const der = csrDerFromText(input);
  if (der === null) throw new TetherError('LAB_CSR_INVALID', 'The certificate request is neither PEM nor base64.', { detail: { problem: 'malformed' } });
  const check = checkCsrDer(der, bounds);
  if (!check.ok) {
    throw new TetherError(check.problem === 'signature' ? 'LAB_CSR_SIGNATURE' : 'LAB_CSR_INVALID', check.message, { detail: { problem: check.problem } });
  }
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))));
  } catch (err) {
    throw new TetherError('LAB_CSR_INVALID', `The certificate request cannot be read: ${(err as Error).message}`, { detail: { problem: 'malformed' }, cause: err });
  }
  const publicKey = csr.publicKey as forge.pki.rsa.PublicKey;
  const cn = csr.subject.getField('CN') as { value?: unknown } | null;
  return { publicKey, keyBits: check.keyBits, commonName: typeof cn?.value === 'string' ? cn.value : undefined };
}
