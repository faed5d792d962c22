import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { makeCsr, makeRsaKeyPair, verifyCaChain, verifyIssuedCertificate } from '../../../native/virtual/phone/pki';
import { derOf, makeCert, makeTestCa } from './pki-fixtures';

const now = new Date();

function rejected(fn: () => unknown, code: string, text?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TetherError);
    expect((e as TetherError).code).toBe(code);
    if (text) expect((e as TetherError).message).toMatch(text);
    return;
  }
  throw new Error('expected a rejection');
}

describe('CA chain verification', () => {
  const ca = makeTestCa();
  const rootKey = { publicKey: ca.root.publicKey, privateKey: ca.rootKey };

  it('accepts root then intermediate and returns SHA-256 fingerprints', () => {
    const fps = verifyCaChain([ca.der(ca.root), ca.der(ca.intermediate)], now);
    expect(fps).toHaveLength(2);
    expect(fps[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyCaChain([ca.der(ca.root)], now)).toHaveLength(1);
  });

  it('rejects a wrong order, a missing root, a non-CA, an expired CA, a too-long path, garbage', () => {
    rejected(() => verifyCaChain([ca.der(ca.intermediate), ca.der(ca.root)], now), 'DEVICE_CHAIN_REJECTED', /self-signed root/);
    rejected(() => verifyCaChain([ca.der(ca.intermediate)], now), 'DEVICE_CHAIN_REJECTED', /self-signed root/);
    const notCa = makeCert({ subject: 'Not a CA', publicKey: ca.intermediate.publicKey, issuer: ca.root, signingKey: ca.rootKey, ca: false });
    rejected(() => verifyCaChain([ca.der(ca.root), derOf(notCa)], now), 'DEVICE_CHAIN_REJECTED', /not a CA/);
    const expired = makeCert({ subject: 'Old Root', publicKey: rootKey.publicKey, signingKey: rootKey.privateKey, ca: true, notBefore: new Date('2001-01-01'), notAfter: new Date('2002-01-01') });
    rejected(() => verifyCaChain([derOf(expired)], now), 'DEVICE_CHAIN_REJECTED', /expired/);
    const noSign = makeCert({ subject: 'No Sign Root', publicKey: rootKey.publicKey, signingKey: rootKey.privateKey, ca: true, keyUsage: { keyCertSign: false } });
    rejected(() => verifyCaChain([derOf(noSign)], now), 'DEVICE_CHAIN_REJECTED', /keyCertSign/);
    // The intermediate has pathLen 0: a second intermediate below it breaks the constraint.
    const sub = makeCert({ subject: 'Sub CA', publicKey: ca.intermediate.publicKey, issuer: ca.intermediate, signingKey: ca.intermediateKey, ca: true });
    rejected(() => verifyCaChain([ca.der(ca.root), ca.der(ca.intermediate), derOf(sub)], now), 'DEVICE_CHAIN_REJECTED', /allows 0/);
    const otherRoot = makeCert({ subject: 'Test Root', publicKey: ca.intermediate.publicKey, signingKey: ca.intermediateKey, ca: true });
    rejected(() => verifyCaChain([derOf(otherRoot), ca.der(ca.intermediate)], now), 'DEVICE_CHAIN_REJECTED', /not signed by/);
    rejected(() => verifyCaChain([Uint8Array.from([0x30, 0x03, 1, 2, 3])], now), 'DEVICE_CHAIN_REJECTED', /not a DER/);
    rejected(() => verifyCaChain([], now), 'DEVICE_CHAIN_REJECTED');
  });
});

describe('key pair, CSR and issued certificate', () => {
  it('makes an RSA-2048 PKCS#10 request that node-forge verifies, with the subject asked for', async () => {
    const keys = await makeRsaKeyPair(2048);
    const der = makeCsr(keys, 'sip:alice@contoso.test');
    const csr = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(Buffer.from(der).toString('binary')));
    expect(csr.verify()).toBe(true);
    expect((csr.subject.getField('CN') as { value: string }).value).toBe('sip:alice@contoso.test');
    expect((csr.publicKey as forge.pki.rsa.PublicKey).n.bitLength()).toBe(2048);
    // A flipped byte in the signed part breaks the signature.
    const bad = der.slice();
    bad[40] = bad[40]! ^ 0x01;
    let ok = false;
    try {
      ok = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(Buffer.from(bad).toString('binary'))).verify();
    } catch {
      ok = false;
    }
    expect(ok).toBe(false);
  });

  it('makes a request that `openssl req -verify` accepts', async (ctx) => {
    if (!existsSync('/usr/bin/openssl')) {
      if (process.env.CI) throw new Error('openssl is required in CI');
      console.log('skipped: /usr/bin/openssl is missing');
      ctx.skip();
    }
    const keys = await makeRsaKeyPair(2048);
    const dir = mkdtempSync(join(tmpdir(), 'tether-csr-'));
    try {
      const file = join(dir, 'req.der');
      writeFileSync(file, makeCsr(keys, 'sip:bob@contoso.test'));
      const out = execFileSync('/usr/bin/openssl', ['req', '-inform', 'DER', '-in', file, '-noout', '-verify', '-subject'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toMatch(/sip:bob@contoso\.test/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('installs a certificate only for its key and only when it chains to the installed CA chain', async () => {
    const ca = makeTestCa();
    const keys = await makeRsaKeyPair(2048);
    const csr = makeCsr(keys, 'sip:carol@contoso.test');
    const chain = [ca.der(ca.root), ca.der(ca.intermediate)];
    const good = ca.der(ca.issue(csr));
    expect(verifyIssuedCertificate(good, [ca.der(ca.intermediate)], [ca.der(ca.root)], keys, now)).toMatch(/^[0-9A-F]{40}$/);
    expect(verifyIssuedCertificate(good, [], chain, keys, now)).toMatch(/^[0-9A-F]{40}$/);
    rejected(() => verifyIssuedCertificate(good, [], [ca.der(ca.root)], keys, now), 'DEVICE_CERTIFICATE_MISMATCH', /does not chain/);
    rejected(() => verifyIssuedCertificate(good, [], [], keys, now), 'DEVICE_CERTIFICATE_MISMATCH', /No CA chain/);
    const other = await makeRsaKeyPair(1024);
    rejected(() => verifyIssuedCertificate(good, [], chain, other, now), 'DEVICE_CERTIFICATE_MISMATCH', /not for this phone/);
    const stranger = ca.der(ca.issue(csr, { signer: 'stranger' }));
    rejected(() => verifyIssuedCertificate(stranger, [], chain, keys, now), 'DEVICE_CERTIFICATE_MISMATCH', /does not chain/);
    const expired = ca.der(ca.issue(csr, { notAfter: new Date(now.getTime() - 60_000) }));
    rejected(() => verifyIssuedCertificate(expired, [], chain, keys, now), 'DEVICE_CERTIFICATE_MISMATCH', /expired/);
    rejected(() => verifyIssuedCertificate(Uint8Array.from([1, 2, 3]), [], chain, keys, now), 'DEVICE_CERTIFICATE_MISMATCH');
  });
});
