import { randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** Builds and signs X.509 v3 certificates with node-forge (keys themselves come from Node's crypto). */

export type Subject = { shortName: string; value: string }[];

export interface CertSpec {
  subject: Subject;
  publicKey: forge.pki.PublicKey;
  notBefore: Date;
  notAfter: Date;
  /** The issuer; omitted for a self-signed root. */
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
  /** Self-signed: the subject's own private key. */
  selfKey?: forge.pki.rsa.PrivateKey;
  extensions: object[];
}

/** A positive 128-bit serial (RFC 5280 wants ≤ 20 octets, positive, unpredictable). */
function serialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export function buildCert(spec: CertSpec): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = spec.publicKey;
  cert.serialNumber = serialHex();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.setSubject(spec.subject);
  const issuer = spec.issuer;
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : spec.subject);
  // The AKI names the issuer's key so path building (OpenSSL, Node) finds the right issuer.
  const aki = issuer ? issuer.cert.generateSubjectKeyIdentifier().getBytes() : true;
  cert.setExtensions([
    ...spec.extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: aki },
  ]);
  const signer = issuer ? issuer.key : spec.selfKey;
  if (!signer) throw new Error('buildCert: a self-signed certificate needs selfKey');
  cert.sign(signer, forge.md.sha256.create());
  return cert;
}

export const toPem = (cert: forge.pki.Certificate): string => forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
