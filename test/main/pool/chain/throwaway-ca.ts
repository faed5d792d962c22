import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

/** A throwaway PKI for chain tests, made with node-forge (keys from Node's generator for speed). */

export interface Issued {
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
  readonly pem: string;
  readonly keyPem: string;
  readonly der: Uint8Array;
}

const keyCache: forge.pki.rsa.PrivateKey[] = [];
let serial = 1;

/** The n-th test key (made once per test file). */
export function testKey(n: number): forge.pki.rsa.PrivateKey {
  while (keyCache.length <= n) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    keyCache.push(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey);
  }
  return keyCache[n]!;
}

export interface CertSpec {
  readonly cn: string;
  readonly key: forge.pki.rsa.PrivateKey;
  /** Signer; omitted = self-signed. */
  readonly issuer?: Issued;
  /** Sign with this key instead of the issuer's (a forged signature). */
  readonly signWith?: forge.pki.rsa.PrivateKey;
  readonly ca?: boolean;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
}

const DAY = 86_400_000;

export function issue(spec: CertSpec): Issued {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(spec.key.n, spec.key.e);
  cert.serialNumber = (serial++).toString(16).padStart(4, '0');
  cert.validity.notBefore = spec.notBefore ?? new Date(Date.now() - DAY);
  cert.validity.notAfter = spec.notAfter ?? new Date(Date.now() + 365 * DAY);
  const subject = [{ name: 'commonName', value: spec.cn }, { name: 'organizationName', value: 'Tether Test' }];
  cert.setSubject(subject);
  cert.setIssuer(spec.issuer ? spec.issuer.cert.subject.attributes : subject);
  const ext: object[] = [{ name: 'basicConstraints', cA: spec.ca ?? false, critical: true }];
  ext.push({ name: 'keyUsage', keyCertSign: spec.ca ?? false, cRLSign: spec.ca ?? false, digitalSignature: true, keyEncipherment: !(spec.ca ?? false), critical: true });
  const alt = [...(spec.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(spec.ips ?? []).map((ip) => ({ type: 7, ip }))];
  if (alt.length > 0) ext.push({ name: 'subjectAltName', altNames: alt }, { name: 'extKeyUsage', serverAuth: true });
  cert.setExtensions(ext);
  cert.sign(spec.signWith ?? spec.issuer?.key ?? spec.key, forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  const derBin = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  return { cert, key: spec.key, pem, keyPem: forge.pki.privateKeyToPem(spec.key), der: Uint8Array.from(derBin, (c) => c.charCodeAt(0)) };
}

/** root → intermediate → server leaf, all valid now. */
export function makePki() {
  const root = issue({ cn: 'Test Root CA', key: testKey(0), ca: true });
  const intermediate = issue({ cn: 'Test Issuing CA', key: testKey(1), ca: true, issuer: root });
  const leaf = issue({ cn: 'pool01.contoso.test', key: testKey(2), issuer: intermediate, dnsNames: ['pool01.contoso.test'], ips: ['127.0.0.1'] });
  return { root, intermediate, leaf };
}
