import forge from 'node-forge';
import { TetherError } from '../../errors';
import { MAX_CHAIN_BYTES, MAX_CHAIN_CERTS } from './wire';

/**
 * Certs-only PKCS#7 (RFC 2315 SignedData with no signers, as `openssl crl2pkcs7 -nocrl` makes)
 * and PEM bundles. Decoding goes through forge's ASN.1 reader only and hands back each
 * certificate's DER untouched, so certificates forge cannot model (EC keys) still pass through.
 */

// forge accepts an options object here (its typings only know the old boolean `strict`).
const fromDer = forge.asn1.fromDer as unknown as (
  bytes: forge.util.ByteStringBuffer,
  options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
) => forge.asn1.Asn1;

/** Strict DER (no trailing bytes, BIT STRINGs left undecoded) of a binary string; throws on bad input. */
export function parseStrictDer(binary: string): forge.asn1.Asn1 {
  return fromDer(forge.util.createBuffer(binary), { strict: true, parseAllBytes: true, decodeBitStrings: false });
}

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';

function malformed(reason: string, message: string): TetherError {
  return new TetherError('CHAIN_MALFORMED', message, { detail: { reason } });
}

function toBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return s;
}

function fromBinary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The DER certificates in a certs-only PKCS#7 (DER). */
export function decodePkcs7Certificates(der: Uint8Array): Uint8Array[] {
  if (der.length > MAX_CHAIN_BYTES) throw malformed('too-large', `The chain is larger than ${MAX_CHAIN_BYTES} bytes.`);
  let root: forge.asn1.Asn1;
  try {
    root = parseStrictDer(toBinary(der));
  } catch {
    throw malformed('bad-der', 'The chain is not valid DER.');
  }
  const seq = (n: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] | null =>
    n && n.tagClass === forge.asn1.Class.UNIVERSAL && n.type === forge.asn1.Type.SEQUENCE && Array.isArray(n.value) ? n.value : null;
  const info = seq(root);
  const oid = info?.[0];
  if (!info || !oid || oid.type !== forge.asn1.Type.OID || typeof oid.value !== 'string' || forge.asn1.derToOid(oid.value) !== OID_SIGNED_DATA) {
    throw malformed('not-pkcs7', 'The chain is not a PKCS#7 SignedData.');
  }
  const explicit = info[1];
  const signed = explicit && explicit.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && explicit.type === 0 && Array.isArray(explicit.value) ? seq(explicit.value[0]) : null;
  if (!signed) throw malformed('not-pkcs7', 'The PKCS#7 has no SignedData content.');
  const certSet = signed.find((n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 0);
  if (!certSet || !Array.isArray(certSet.value) || certSet.value.length === 0) throw malformed('no-certificates', 'The PKCS#7 holds no certificates.');
  if (certSet.value.length > MAX_CHAIN_CERTS) throw malformed('too-many', `The chain holds more than ${MAX_CHAIN_CERTS} certificates.`);
  return certSet.value.map((cert) => {
    if (!seq(cert)) throw malformed('bad-certificate', 'An entry of the PKCS#7 is not a certificate.');
    return fromBinary(forge.asn1.toDer(cert).getBytes());
  });
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n\t ]*?)-----END \1-----/g;

function base64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(clean)) throw malformed('bad-pem', 'A PEM block is not valid base64.');
  return fromBinary(forge.util.decode64(clean));
}

/** The DER certificates in PEM text: CERTIFICATE blocks, and PKCS7 blocks expanded. */
export function decodePemCertificates(text: string): Uint8Array[] {
  if (text.length > MAX_CHAIN_BYTES) throw malformed('too-large', `The chain is larger than ${MAX_CHAIN_BYTES} bytes.`);
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1]!;
    const der = base64(m[2]!);
    if (label === 'CERTIFICATE' || label === 'X509 CERTIFICATE') out.push(der);
    else if (label === 'PKCS7' || label === 'CMS') out.push(...decodePkcs7Certificates(der));
    else throw malformed('unexpected-pem', `The chain holds a '${label.slice(0, 30)}' block; only certificates are expected.`);
    if (out.length > MAX_CHAIN_CERTS) throw malformed('too-many', `The chain holds more than ${MAX_CHAIN_CERTS} certificates.`);
  }
  if (out.length === 0) throw malformed('no-certificates', 'The text holds no PEM certificate.');
  return out;
}

/** A certs-only PKCS#7 (DER) holding these PEM certificates, in order (the lab's chain answer). */
export function encodePkcs7Certificates(pems: readonly string[]): Uint8Array {
  const p7 = forge.pkcs7.createSignedData();
  for (const pem of pems) p7.addCertificate(pem);
  return fromBinary(forge.asn1.toDer(p7.toAsn1()).getBytes());
}

/** PEM text for DER certificates. */
export function derToPem(der: Uint8Array): string {
  const b64 = forge.util.encode64(toBinary(der));
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}
