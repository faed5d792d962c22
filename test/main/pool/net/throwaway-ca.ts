import { generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/**
 * A throwaway CA for transport tests: a root and leaf certificates (valid, expired, other name),
 * keys made by Node's crypto (fast) and certificates by node-forge.
 */
export interface TestCert {
  certPem: string;
  keyPem: string;
}

function rsaKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), keyPem };
}

let serial = 1;

export class ThrowawayCa {
  private readonly keys = rsaKeys();
  readonly certPem: string;
  private readonly cert: forge.pki.Certificate;

  constructor(commonName = 'Tether Test Root') {
    const cert = forge.pki.createCertificate();
    cert.publicKey = this.keys.publicKey;
    cert.serialNumber = (serial++).toString(16).padStart(2, '0');
    cert.validity.notBefore = new Date(Date.now() - 86_400_000);
    cert.validity.notAfter = new Date(Date.now() + 30 * 86_400_000);
    const name = [{ name: 'commonName', value: commonName }];
    cert.setSubject(name);
    cert.setIssuer(name);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ]);
    cert.sign(this.keys.privateKey, forge.md.sha256.create());
    this.cert = cert;
    this.certPem = forge.pki.certificateToPem(cert);
  }

  /** A leaf for these DNS names (or IP addresses), signed by this CA. */
  issue(dnsNames: string[], options: { expired?: boolean } = {}): TestCert {
    const leafKeys = rsaKeys();
    const cert = forge.pki.createCertificate();
    cert.publicKey = leafKeys.publicKey;
    cert.serialNumber = (serial++).toString(16).padStart(2, '0');
    const now = Date.now();
    cert.validity.notBefore = new Date(options.expired ? now - 20 * 86_400_000 : now - 3_600_000);
    cert.validity.notAfter = new Date(options.expired ? now - 10 * 86_400_000 : now + 10 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: dnsNames[0] ?? 'leaf' }]);
    cert.setIssuer(this.cert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: dnsNames.map((value) => (isIP(value) ? { type: 7, ip: value } : { type: 2, value })) },
    ]);
    cert.sign(this.keys.privateKey, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(cert), keyPem: leafKeys.keyPem };
  }
}
