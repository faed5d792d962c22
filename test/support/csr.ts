import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

/** A phone-like key pair and PKCS#10 request made with node-forge (key from Node for speed). */
export function makeCsr(sipUri: string, bits = 2048): { csrPem: string; keyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  csr.setSubject([{ name: 'commonName', value: sipUri }]);
  csr.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { csrPem: forge.pki.certificationRequestToPem(csr), keyPem, publicKeyPem };
}

/** A tiny self-contained CA (root → intermediate → leaf) for wire tests that need real certificates. */
export function makeChain(csrPem: string): { rootPem: string; intermediatePem: string; leafPem: string } {
  const mk = (subjectCn: string, issuerCn: string, pub: forge.pki.PublicKey, signKey: forge.pki.rsa.PrivateKey, ca: boolean, serial: string) => {
    const c = forge.pki.createCertificate();
    c.publicKey = pub;
    c.serialNumber = serial;
    c.validity.notBefore = new Date(Date.now() - 60_000);
    c.validity.notAfter = new Date(Date.now() + 86_400_000);
    c.setSubject([{ name: 'commonName', value: subjectCn }]);
    c.setIssuer([{ name: 'commonName', value: issuerCn }]);
    c.setExtensions(ca ? [{ name: 'basicConstraints', cA: true }] : [{ name: 'basicConstraints', cA: false }]);
    c.sign(signKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
    return forge.pki.certificateToPem(c);
  };
  const gen = () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    return {
      priv: forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
      pub: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    };
  };
  const root = gen();
  const inter = gen();
  const csr = forge.pki.certificationRequestFromPem(csrPem);
  return {
    rootPem: mk('Test Root', 'Test Root', root.pub, root.priv, true, '01'),
    intermediatePem: mk('Test Intermediate', 'Test Root', inter.pub, root.priv, true, '02'),
    leafPem: mk('sip:alice@contoso.test', 'Test Intermediate', csr.publicKey as forge.pki.PublicKey, inter.priv, false, '03'),
  };
}

/**
 * A PKCS#10 request whose public key an attacker chose: the modulus of a real key (or a random one of
 * `modulusBits`) with the exponent `exponent`. Signed with the real key, so only the key is hostile.
 */
export function makeHostileCsr(options: { exponent?: bigint; modulusBits?: number }): string {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const real = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey;
  let n = real.n;
  if (options.modulusBits !== undefined) {
    const bytes = Buffer.from(forge.random.getBytesSync(options.modulusBits / 8), 'binary');
    // Top bit set (exact size), odd (as a modulus is).
    bytes[0]! |= 0x80;
    bytes[bytes.length - 1]! |= 0x01;
    n = new forge.jsbn.BigInteger(bytes.toString('hex'), 16);
  }
  const e = new forge.jsbn.BigInteger((options.exponent ?? 65537n).toString(16), 16);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(n, e);
  csr.setSubject([{ name: 'commonName', value: 'sip:mallory@contoso.test' }]);
  csr.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}
