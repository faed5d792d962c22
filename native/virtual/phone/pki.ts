import { createHash, generateKeyPair, sign, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { TetherError, type ErrorCode } from '../../../common/errors';

/**
 * The phone's certificate work: checking a CA chain before trusting it, making its key pair and
 * PKCS#10 request (the private key never leaves the phone), and checking an issued certificate.
 * Parsing, dates and signature checks use Node's crypto (native: 32 phones signing in at once in
 * one process must not hold its event loop with JavaScript RSA); node-forge only reads a CA's
 * basicConstraints/keyUsage and assembles the PKCS#10 request. The key is a Node KeyObject that
 * signs without ever being exported.
 */

export function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

export function sha1Thumbprint(der: Uint8Array): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase();
}

/** A certificate as Node's crypto reads it (native parsing and signature checks). */
function parse(der: Uint8Array, code: ErrorCode, what: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (cause) {
    throw new TetherError(code, `${what} is not a DER X.509 certificate with an RSA key.`, { cause });
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa') throw new TetherError(code, `${what} is not a DER X.509 certificate with an RSA key.`);
  return cert;
}

function cn(cert: X509Certificate): string {
  const line = cert.subject.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3) : cert.subject;
}

/**
 * basicConstraints and keyUsage of a CA certificate. Node's X509Certificate exposes neither the
 * path length nor keyCertSign, so node-forge reads the extensions (parsing only: forge's JavaScript
 * RSA is slow enough to block the event loop, so every signature is checked by Node's crypto).
 */
function caFlags(der: Uint8Array, code: ErrorCode, what: string): { ca: boolean; pathLen: number | null; canSign: boolean } {
  let cert: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(der).toString('binary'))));
  } catch (cause) {
    throw new TetherError(code, `${what} is not a DER X.509 certificate with an RSA key.`, { cause });
  }
  const bc = cert.getExtension('basicConstraints') as { cA?: boolean; pathLenConstraint?: number } | null;
  const ku = cert.getExtension('keyUsage') as { keyCertSign?: boolean } | null;
  return {
    ca: bc?.cA === true,
    pathLen: typeof bc?.pathLenConstraint === 'number' ? bc.pathLenConstraint : null,
    canSign: ku === null || ku.keyCertSign === true,
  };
}

function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  if (child.issuer !== issuer.subject) return false;
  try {
    return child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function checkDates(cert: X509Certificate, now: Date, code: ErrorCode): void {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (now < notBefore) throw new TetherError(code, `Certificate "${cn(cert)}" is not valid until ${notBefore.toISOString()}.`);
  if (now > notAfter) throw new TetherError(code, `Certificate "${cn(cert)}" expired on ${notAfter.toISOString()}.`);
}

/**
 * Checks a CA chain given root first, then each intermediate (messages.ts InstallCaChainRequest):
 * the root is self-signed, each certificate is signed by the one before it, every one is a CA
 * (basicConstraints cA, keyCertSign when keyUsage is present, path length respected) and valid now.
 * Returns the SHA-256 fingerprints in order.
 */
export function verifyCaChain(ders: readonly Uint8Array[], now: Date): string[] {
  const code: ErrorCode = 'DEVICE_CHAIN_REJECTED';
  if (ders.length < 1 || ders.length > 16) throw new TetherError(code, `A CA chain has 1 to 16 certificates, not ${ders.length}.`);
  const certs = ders.map((d, i) => parse(d, code, `Certificate ${i + 1} of the chain`));
  // Structure first (the most useful message when the order is wrong), then each CA's own checks.
  const root = certs[0]!;
  if (!signedBy(root, root)) throw new TetherError(code, `The first certificate ("${cn(root)}") must be a self-signed root.`);
  for (let i = 1; i < certs.length; i++) {
    if (!signedBy(certs[i]!, certs[i - 1]!)) {
      throw new TetherError(code, `Certificate "${cn(certs[i]!)}" is not signed by "${cn(certs[i - 1]!)}" before it in the chain.`);
    }
  }
  certs.forEach((cert, i) => {
    const ca = caFlags(ders[i]!, code, `Certificate ${i + 1} of the chain`);
    if (!ca.ca) throw new TetherError(code, `Certificate "${cn(cert)}" is not a CA certificate (basicConstraints cA is not set).`);
    if (!ca.canSign) throw new TetherError(code, `Certificate "${cn(cert)}" may not sign certificates (keyUsage lacks keyCertSign).`);
    // CAs below this one in the chain (not counting the leaf): pathLenConstraint must allow them.
    const below = certs.length - 1 - i;
    if (ca.pathLen !== null && below > ca.pathLen) {
      throw new TetherError(code, `Certificate "${cn(cert)}" allows ${ca.pathLen} intermediate CA(s) below it, the chain has ${below}.`);
    }
    checkDates(cert, now, code);
  });
  return ders.map(sha256Hex);
}

/** The phone's key pair: made here, kept as a KeyObject, used only to sign. */
export interface PhoneKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function makeRsaKeyPair(bits: number): Promise<PhoneKeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve({ publicKey, privateKey });
    });
  });
}

/** One DER element: tag, definite length, content. */
function der(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

const OID_COMMON_NAME = Buffer.from('0603550403', 'hex');
/** AlgorithmIdentifier sha256WithRSAEncryption (1.2.840.113549.1.1.11), NULL parameters. */
const SHA256_WITH_RSA = Buffer.from('300d06092a864886f70d01010b0500', 'hex');

/**
 * A PKCS#10 request (RFC 2986) with subject CN=`subject` (a UTF8String: a SIP URI has an "@"),
 * signed with SHA-256/RSA by Node's crypto with the KeyObject, so the key is never exported. The
 * DER is assembled here from the key's own SPKI (no big-number parsing in JavaScript). The
 * signature is native and well under a millisecond, so it stays synchronous: on the thread pool it
 * would queue behind every other phone's key generation and hold this phone's sign-in back.
 */
export function makeCsr(keys: PhoneKeyPair, subject: string): Uint8Array {
  const name = der(0x30, der(0x31, der(0x30, OID_COMMON_NAME, der(0x0c, Buffer.from(subject, 'utf8')))));
  const info = der(0x30, Buffer.from('020100', 'hex'), name, spkiDer(keys.publicKey), Buffer.from('a000', 'hex'));
  const signature = sign('sha256', info, keys.privateKey);
  return new Uint8Array(der(0x30, info, SHA256_WITH_RSA, der(0x03, Buffer.from([0]), signature)));
}

function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/**
 * Checks an issued certificate: it carries the phone's public key, is valid now, and chains
 * through `issuing` (0–16 intermediates sent with it) to a certificate of the installed CA chain.
 * Returns its SHA-1 thumbprint.
 */
export function verifyIssuedCertificate(
  certDer: Uint8Array,
  issuing: readonly Uint8Array[],
  installedChain: readonly Uint8Array[],
  keys: PhoneKeyPair,
  now: Date,
): string {
  const code: ErrorCode = 'DEVICE_CERTIFICATE_MISMATCH';
  const cert = parse(certDer, code, 'The certificate');
  if (!spkiDer(cert.publicKey).equals(spkiDer(keys.publicKey))) throw new TetherError(code, "The certificate is not for this phone's key pair.");
  checkDates(cert, now, code);
  if (installedChain.length === 0) throw new TetherError(code, 'No CA chain is installed to check the certificate against; install the chain first.');
  const trusted = installedChain.map((d, i) => parse(d, code, `Installed CA certificate ${i + 1}`));
  const extra = issuing.map((d, i) => parse(d, code, `Issuing certificate ${i + 1}`));
  let current = cert;
  for (let depth = 0; depth <= 16; depth++) {
    const anchor = trusted.find((t) => signedBy(current, t));
    if (anchor) return sha1Thumbprint(certDer);
    const next = extra.find((x) => x !== current && signedBy(current, x));
    if (!next) break;
    if (!next.ca) throw new TetherError(code, `Issuing certificate "${cn(next)}" is not a CA certificate.`);
    checkDates(next, now, code);
    current = next;
  }
  throw new TetherError(code, 'The certificate does not chain to the installed CA chain.');
}
