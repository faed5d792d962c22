import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * Bounded check of a PKCS#10 request (RFC 2986), shared by the host (the phone's CSR, stage 8) and
 * the lab's GetAndPublishCert. The key's size and exponent are bounded BEFORE the signature is
 * checked: verifying costs time in the exponent's size, so a request with a huge exponent would
 * otherwise hold the event loop for seconds. The signature is then checked with Node's crypto
 * (OpenSSL), over the exact DER bytes of certificationRequestInfo as sent.
 */

/** MinCSRKeySize/MaxCSRKeySize may range 1024–16384 bits on a pool [S30]. */
export const CSR_KEY_BITS = { min: 1024, max: 16384 } as const;
/** Largest public exponent accepted (F4 = 65537 is what everyone uses). */
export const MAX_CSR_EXPONENT = 2n ** 32n;
/** A 16384-bit request is ~2.3 KB of DER; anything far larger is not a request we would sign. */
export const MAX_CSR_DER_BYTES = 32 * 1024;

export interface CsrKeyBounds {
  readonly minBits: number;
  readonly maxBits: number;
}

export type CsrProblem = 'malformed' | 'algorithm' | 'key-size' | 'exponent' | 'signature';

export type CsrCheck =
  | { readonly ok: true; readonly spkiDer: Buffer; readonly key: KeyObject; readonly keyBits: number; readonly exponent: bigint }
  | { readonly ok: false; readonly problem: CsrProblem; readonly message: string };

/** sha*WithRSAEncryption (RFC 8017 A.2.4), DER of the OID value → the hash Node verifies with. */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['2a864886f70d010105', 'sha1'],
  ['2a864886f70d01010b', 'sha256'],
  ['2a864886f70d01010c', 'sha384'],
  ['2a864886f70d01010d', 'sha512'],
]);

interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/** One DER TLV at `at` inside `[.., limit)`, definite lengths only; null when it does not fit. */
function readTlv(der: Buffer, at: number, limit: number): Tlv | null {
  if (at + 2 > limit) return null;
  const tag = der[at]!;
  let len = der[at + 1]!;
  let valueStart = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || valueStart + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[valueStart + i]!;
    valueStart += n;
  }
  const end = valueStart + len;
  return end > limit ? null : { tag, start: at, valueStart, end };
}

/** The children of a constructed TLV, in order. */
function children(der: Buffer, parent: Tlv): Tlv[] | null {
  const out: Tlv[] = [];
  for (let at = parent.valueStart; at < parent.end; ) {
    const t = readTlv(der, at, parent.end);
    if (!t) return null;
    out.push(t);
    at = t.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const fail = (problem: CsrProblem, message: string): CsrCheck => ({ ok: false, problem, message });

export function checkCsrDer(der: Buffer, bounds: CsrKeyBounds = { minBits: CSR_KEY_BITS.min, maxBits: CSR_KEY_BITS.max }): CsrCheck {
  if (der.length > MAX_CSR_DER_BYTES) return fail('malformed', `The request is ${der.length} bytes; at most ${MAX_CSR_DER_BYTES} are accepted.`);
  const outer = readTlv(der, 0, der.length);
  if (!outer || outer.tag !== SEQUENCE || outer.end !== der.length) return fail('malformed', 'The request is not one DER SEQUENCE.');
  const top = children(der, outer);
  const [info, algorithm, signature] = top ?? [];
  if (top?.length !== 3 || info!.tag !== SEQUENCE || algorithm!.tag !== SEQUENCE || signature!.tag !== 0x03) {
    return fail('malformed', 'The request is not a PKCS#10 CertificationRequest.');
  }
  const fields = children(der, info!);
  const spki = fields?.[2];
  if (!fields || fields.length < 3 || fields[0]!.tag !== 0x02 || fields[1]!.tag !== SEQUENCE || spki!.tag !== SEQUENCE) {
    return fail('malformed', 'The request has no subject public key.');
  }
  const oid = children(der, algorithm!)?.[0];
  const hash = oid && oid.tag === 0x06 ? SIGNATURE_ALGORITHMS.get(der.subarray(oid.valueStart, oid.end).toString('hex')) : undefined;
  if (hash === undefined) return fail('algorithm', 'The request is not signed with RSA and SHA-1 or SHA-2 (PKCS#1 v1.5).');

  const spkiDer = Buffer.from(der.subarray(spki!.start, spki!.end));
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch {
    return fail('malformed', 'The request\'s public key cannot be read.');
  }
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType !== 'rsa' || details?.modulusLength === undefined || details.publicExponent === undefined) {
    return fail('algorithm', 'The request\'s key is not an RSA key.');
  }
  const keyBits = details.modulusLength;
  if (keyBits < bounds.minBits || keyBits > bounds.maxBits) {
    return fail('key-size', `The request's key has ${keyBits} bits; ${bounds.minBits}–${bounds.maxBits} are accepted.`);
  }
  const exponent = details.publicExponent;
  if (exponent < 3n || exponent > MAX_CSR_EXPONENT || exponent % 2n === 0n) {
    return fail('exponent', `The request's public exponent is not an odd number from 3 to 2^32 (it has ${exponent.toString(2).length} bits).`);
  }

  const sig = der.subarray(signature!.valueStart, signature!.end);
  if (sig.length < 2 || sig[0] !== 0) return fail('malformed', 'The request\'s signature is not a whole number of bytes.');
  let good: boolean;
  try {
    good = verify(hash, der.subarray(info!.start, info!.end), key, sig.subarray(1));
  } catch {
    good = false;
  }
  if (!good) return fail('signature', 'The request\'s signature does not match its public key.');
  return { ok: true, spkiDer, key, keyBits, exponent };
}

/**
 * The DER of a request given as PEM (RFC 7468 `CERTIFICATE REQUEST`, or the older `NEW CERTIFICATE
 * REQUEST` label) or as bare base64 (as GetAndPublishCert carries it); null when it is neither.
 */
export function csrDerFromText(text: string): Buffer | null {
  const pem = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]*)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(text);
  const b64 = (pem ? pem[1]! : text).replace(/\s+/g, '');
  if (b64.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  return Buffer.from(b64, 'base64');
}
