import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

/** A throwaway CA (root → intermediate) made with node-forge, for chain and certificate tests. */
export interface TestCa {
  root: forge.pki.Certificate;
  rootKey: forge.pki.rsa.PrivateKey;
  intermediate: forge.pki.Certificate;
  intermediateKey: forge.pki.rsa.PrivateKey;
  der(cert: forge.pki.Certificate): Uint8Array;
  /** Issues a leaf for the PKCS#10 request `csrDer`, signed by `signer` (default the intermediate). */
  issue(csrDer: Uint8Array, options?: { signer?: 'root' | 'intermediate' | 'stranger'; notAfter?: Date; publicKeyFrom?: forge.pki.PublicKey }): forge.pki.Certificate;
}

const keyCache: forge.pki.rsa.KeyPair[] = [];

/**
 * RSA-2048 test keys, made once per worker. 2048, not 1024: OpenSSL 3.5's default security level 2
 * refuses RSA-1024 anywhere in a TLS chain. Node's native keygen makes them (forge's JS keygen is
 * slow); forge gets them through PEM.
 */
function key(i: number): forge.pki.rsa.KeyPair {
  while (keyCache.length <= i) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    keyCache.push({
      privateKey: forge.pki.privateKeyFromPem(pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
      publicKey: forge.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    });
  }
  return keyCache[i]!;
}

let serialCounter = 1;

export function makeCert(options: {
  subject: string;
  publicKey: forge.pki.PublicKey;
  issuer?: forge.pki.Certificate;
  signingKey: forge.pki.rsa.PrivateKey;
  ca: boolean;
  pathLen?: number;
  notBefore?: Date;
  notAfter?: Date;
  keyUsage?: { keyCertSign: boolean };
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = options.publicKey;
  cert.serialNumber = (serialCounter++).toString(16).padStart(2, '0');
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86400_000);
  const subject = [{ name: 'commonName', value: options.subject }];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ? options.issuer.subject.attributes : subject);
  const exts: object[] = [{ name: 'basicConstraints', cA: options.ca, ...(options.pathLen === undefined ? {} : { pathLenConstraint: options.pathLen }) }];
  if (options.keyUsage) exts.push({ name: 'keyUsage', keyCertSign: options.keyUsage.keyCertSign, digitalSignature: true });
  cert.setExtensions(exts);
  cert.sign(options.signingKey, forge.md.sha256.create());
  return cert;
}

export function derOf(cert: forge.pki.Certificate): Uint8Array {
  return new Uint8Array(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary'));
}

export function makeTestCa(): TestCa {
  const rk = key(0);
  const ik = key(1);
  const root = makeCert({ subject: 'Test Root', publicKey: rk.publicKey, signingKey: rk.privateKey, ca: true, keyUsage: { keyCertSign: true } });
  const intermediate = makeCert({ subject: 'Test Issuing CA', publicKey: ik.publicKey, issuer: root, signingKey: rk.privateKey, ca: true, pathLen: 0 });
  return {
    root,
    rootKey: rk.privateKey,
    intermediate,
    intermediateKey: ik.privateKey,
    der: derOf,
    issue(csrDer, options = {}) {
      const csr = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(Buffer.from(csrDer).toString('binary')));
      const cn = (csr.subject.getField('CN') as { value: string }).value;
      const stranger = key(2);
      const signer = options.signer ?? 'intermediate';
      return makeCert({
        subject: cn,
        publicKey: options.publicKeyFrom ?? (csr.publicKey as forge.pki.PublicKey),
        issuer: signer === 'root' ? root : intermediate,
        signingKey: signer === 'root' ? rk.privateKey : signer === 'stranger' ? stranger.privateKey : ik.privateKey,
        ca: false,
        notAfter: options.notAfter,
      });
    },
  };
}
