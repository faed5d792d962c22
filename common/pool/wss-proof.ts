import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The web ticket's proof key and the signed Timestamp that proves possession of it
 * (docs/pool/certprov.md §"Proof of possession"). WS-Trust 1.3 computed key
 * `…/ws-trust/200512/CK/PSHA1`: key = P_SHA1(Entropy_REQ, Entropy_RES), as SIPE does [S29].
 * The signature is XML-DSig HMAC-SHA1 over an exclusive-c14n SignedInfo that references the
 * Timestamp by `#timestamp`.
 *
 * OUR SIMPLIFICATION: we never run a general exclusive-c14n. Both sides *emit* the Timestamp and
 * the SignedInfo already in canonical form (no whitespace, one namespace declaration, attributes
 * in canonical order, no empty-element shorthand), and the verifier *rebuilds* that form from the
 * parsed values. A peer that formats the Timestamp differently (e.g. extra whitespace) is
 * canonicalised the same way here only if its c14n output equals our rebuilt form.
 */

export const NS_WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
export const NS_DS = 'http://www.w3.org/2000/09/xmldsig#';
export const ALG_EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ALG_HMAC_SHA1 = 'http://www.w3.org/2000/09/xmldsig#hmac-sha1';
export const ALG_SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
export const COMPUTED_KEY_PSHA1 = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/CK/PSHA1';
export const TIMESTAMP_ID = 'timestamp';

/** TLS 1.0 P_hash with HMAC-SHA1 (RFC 2246 §5), truncated to `length` bytes. */
export function pSha1(secret: Uint8Array, seed: Uint8Array, length: number): Buffer {
  if (!Number.isInteger(length) || length < 1 || length > 1024) throw new RangeError('P_SHA1 length must be 1..1024');
  const out = Buffer.alloc(length);
  let a: Buffer = createHmac('sha1', secret).update(seed).digest(); // A(1)
  let filled = 0;
  while (filled < length) {
    const block = createHmac('sha1', secret).update(a).update(seed).digest();
    filled += block.copy(out, filled);
    block.fill(0);
    const next = createHmac('sha1', secret).update(a).digest();
    a.fill(0);
    a = next;
  }
  a.fill(0);
  return out;
}

/** key = P_SHA1(Entropy_REQ, Entropy_RES), as long as the client's entropy (SIPE: 32 bytes). */
export function deriveProofKey(clientEntropy: Uint8Array, serverEntropy: Uint8Array): Buffer {
  if (clientEntropy.length < 16 || serverEntropy.length < 16) throw new RangeError('entropy too short for a proof key');
  return pSha1(clientEntropy, serverEntropy, clientEntropy.length);
}

/** The Timestamp in canonical form. `created`/`expires` are xs:dateTime strings used verbatim. */
export function canonicalTimestamp(created: string, expires: string): string {
  return (
    `<wsu:Timestamp xmlns:wsu="${NS_WSU}" wsu:Id="${TIMESTAMP_ID}">` +
    `<wsu:Created>${escapeText(created)}</wsu:Created><wsu:Expires>${escapeText(expires)}</wsu:Expires>` +
    `</wsu:Timestamp>`
  );
}

/** The SignedInfo over `#timestamp`, in exclusive-c14n form. */
export function canonicalSignedInfo(digestBase64: string): string {
  return (
    `<SignedInfo xmlns="${NS_DS}">` +
    `<CanonicalizationMethod Algorithm="${ALG_EXC_C14N}"></CanonicalizationMethod>` +
    `<SignatureMethod Algorithm="${ALG_HMAC_SHA1}"></SignatureMethod>` +
    `<Reference URI="#${TIMESTAMP_ID}">` +
    `<Transforms><Transform Algorithm="${ALG_EXC_C14N}"></Transform></Transforms>` +
    `<DigestMethod Algorithm="${ALG_SHA1}"></DigestMethod>` +
    `<DigestValue>${escapeText(digestBase64)}</DigestValue>` +
    `</Reference></SignedInfo>`
  );
}

export interface TimestampSignature {
  /** The Timestamp element to place in wsse:Security. */
  readonly timestampXml: string;
  /** The canonical SignedInfo (goes inside ds:Signature). */
  readonly signedInfoXml: string;
  readonly digestBase64: string;
  readonly signatureBase64: string;
}

/** Signs a Timestamp with the proof key (HMAC-SHA1 over the canonical SignedInfo). */
export function signTimestamp(proofKey: Uint8Array, created: string, expires: string): TimestampSignature {
  const timestampXml = canonicalTimestamp(created, expires);
  const digestBase64 = createHash('sha1').update(timestampXml, 'utf8').digest('base64');
  const signedInfoXml = canonicalSignedInfo(digestBase64);
  const signatureBase64 = createHmac('sha1', proofKey).update(signedInfoXml, 'utf8').digest('base64');
  return { timestampXml, signedInfoXml, digestBase64, signatureBase64 };
}

export type TimestampCheck = 'ok' | 'bad-digest' | 'bad-signature';

/** Checks a received (created, expires, digest, signature) against the proof key. */
export function verifyTimestampSignature(
  proofKey: Uint8Array,
  received: { created: string; expires: string; digestBase64: string; signatureBase64: string },
): TimestampCheck {
  const expected = signTimestamp(proofKey, received.created, received.expires);
  if (!sameBase64(expected.digestBase64, received.digestBase64)) return 'bad-digest';
  // The SignedInfo is rebuilt around the *received* digest, which we just checked equals ours.
  return sameBase64(expected.signatureBase64, received.signatureBase64) ? 'ok' : 'bad-signature';
}

function sameBase64(a: string, b: string): boolean {
  const x = Buffer.from(a.trim(), 'base64');
  const y = Buffer.from(b.trim(), 'base64');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
