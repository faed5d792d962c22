import { generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/**
 * Throwaway PKIs for tests, made with node-forge (keys from Node's generator for speed): `issue`
 * and `makePki` for chain tests, `ThrowawayCa` (a root that issues server leaves) for transport tests.
 */

export interface Issued {
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
  readonly pem: string;
  readonly keyPem: string;
  readonly der: Uint8Array;
}

const keyCache: forge.pki.rsa.PrivateKey[] = [];
let serial = 1;

/** A new RSA-2048 key. */
export function freshKey(): forge.pki.rsa.PrivateKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
}

/** The n-th test key (made once per test file). */
export function testKey(n: number): forge.pki.rsa.PrivateKey {
  while (keyCache.length <= n) keyCache.push(freshKey());
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
  /** basicConstraints pathLenConstraint (CAs only). */
  readonly pathLen?: number;
  /** keyUsage keyCertSign; default: set for CAs. */
  readonly keyCertSign?: boolean;
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
  const ext: object[] = [{ name: 'basicConstraints', cA: spec.ca ?? false, critical: true, ...(spec.pathLen === undefined ? {} : { pathLenConstraint: spec.pathLen }) }];
  ext.push({ name: 'keyUsage', keyCertSign: spec.keyCertSign ?? spec.ca ?? false, cRLSign: spec.ca ?? false, digitalSignature: true, keyEncipherment: !(spec.ca ?? false), critical: true });
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

export interface TestCert {
  certPem: string;
  keyPem: string;
}

/** A root CA with its own key that issues server leaves (valid, expired, or for other names). */
export class ThrowawayCa {
  private readonly root: Issued;
  readonly certPem: string;

  constructor(commonName = 'Tether Test Root') {
    this.root = issue({ cn: commonName, key: freshKey(), ca: true, notAfter: new Date(Date.now() + 30 * DAY) });
    this.certPem = this.root.pem;
  }

  /** A leaf for these DNS names (or IP addresses), signed by this CA. */
  issue(names: string[], options: { expired?: boolean } = {}): TestCert {
    const now = Date.now();
    const leaf = issue({
      cn: names[0] ?? 'leaf',
      key: freshKey(),
      issuer: this.root,
      dnsNames: names.filter((n) => !isIP(n)),
      ips: names.filter((n) => isIP(n)),
      notBefore: new Date(options.expired ? now - 20 * DAY : now - 3_600_000),
      notAfter: new Date(options.expired ? now - 10 * DAY : now + 10 * DAY),
    });
    return { certPem: leaf.pem, keyPem: leaf.keyPem };
  }
}
