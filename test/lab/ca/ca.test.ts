import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { openLabCa, CA_FILES, type PersistentLabCa } from '../../../lab/ca/ca';
import { openssl, tempDir, writeFiles } from '../support';

let tmp: { dir: string; remove: () => void };
let ca: PersistentLabCa;
const caDir = () => join(tmp.dir, 'ca');

beforeAll(async () => {
  tmp = tempDir();
  ca = await openLabCa({ dir: caDir(), domain: 'contoso.test' });
  writeFiles(tmp.dir, { 'root.pem': ca.rootCertPem, 'int.pem': ca.intermediateCertPem });
});
afterAll(() => tmp.remove());

function opensslCsr(keyArgs: string[], name: string): string {
  const r = openssl(['req', '-new', '-newkey', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-subj', '/CN=sip:alice@contoso.test', '-out', `${name}.csr`], tmp.dir);
  expect(r.ok, r.out).toBe(true);
  return readFileSync(join(tmp.dir, `${name}.csr`), 'utf8');
}

function forgeCsr(): { pem: string; key: forge.pki.rsa.PrivateKey } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
  csr.setSubject([{ shortName: 'CN', value: 'sip:bob@contoso.test' }]);
  const key = forge.pki.privateKeyFromPem(pair.privateKey) as forge.pki.rsa.PrivateKey;
  csr.sign(key, forge.md.sha256.create());
  return { pem: forge.pki.certificationRequestToPem(csr), key };
}

function verifyWithOpenssl(leafPem: string, extra: string[] = []): { ok: boolean; out: string } {
  writeFileSync(join(tmp.dir, 'leaf.pem'), leafPem);
  return openssl(['verify', ...extra, '-CAfile', 'root.pem', '-untrusted', 'int.pem', 'leaf.pem'], tmp.dir);
}

describe('lab CA', () => {
  it('has a self-signed root and an intermediate that openssl verifies', () => {
    const root = new X509Certificate(ca.rootCertPem);
    const int = new X509Certificate(ca.intermediateCertPem);
    expect(root.ca).toBe(true);
    expect(int.ca).toBe(true);
    expect(int.checkIssued(root)).toBe(true);
    expect(root.checkIssued(root)).toBe(true);
    expect(int.checkIssued(int)).toBe(false);
    const r = openssl(['verify', '-CAfile', 'root.pem', 'int.pem'], tmp.dir);
    expect(r.ok, r.out).toBe(true);
    expect(ca.chainPems()).toEqual([ca.intermediateCertPem, ca.rootCertPem]);
    expect(ca.rootFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(ca.rootFingerprint).toBe(root.fingerprint256);
  });

  it('issues a server certificate that verifies only through the intermediate', () => {
    const leaf = ca.issueServerCert(['pool01.contoso.test', 'ucupdates-r2.contoso.test'], { ips: ['127.0.0.1'] });
    const r = verifyWithOpenssl(leaf.certPem, ['-purpose', 'sslserver']);
    expect(r.ok, r.out).toBe(true);
    // Without the intermediate the chain cannot be built (the failure USB-tethered phones hit, [S36]).
    const alone = openssl(['verify', '-CAfile', 'root.pem', 'leaf.pem'], tmp.dir);
    expect(alone.ok).toBe(false);
    expect(alone.out).toMatch(/unable to get local issuer certificate/);
    const x = new X509Certificate(leaf.certPem);
    expect(x.subjectAltName).toContain('DNS:ucupdates-r2.contoso.test');
    expect(x.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x.checkHost('pool01.contoso.test')).toBe('pool01.contoso.test');
    expect(x.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
  });

  it('issues an expired server certificate that openssl rejects as expired', () => {
    const leaf = ca.issueServerCert(['pool01.contoso.test'], { expired: true });
    const r = verifyWithOpenssl(leaf.certPem);
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/certificate has expired/);
  });

  it('issues a user certificate from an openssl CSR (CN, SAN URI, clientAuth, validity)', () => {
    const csr = opensslCsr(['rsa:2048'], 'alice');
    const pem = ca.issueFromCsr(csr, 'sip:alice@contoso.test', 8);
    const x = new X509Certificate(pem);
    expect(x.subject).toBe('CN=sip:alice@contoso.test');
    expect(x.subjectAltName).toBe('URI:sip:alice@contoso.test');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(x.ca).toBe(false);
    // 8 hours from issuance, plus the 5 minutes notBefore is back-dated (both from one clock read).
    expect(new Date(x.validTo).getTime() - new Date(x.validFrom).getTime()).toBe(8 * 3600_000 + 5 * 60_000);
    // The key is the requester's: it matches the private key openssl made.
    const key = readFileSync(join(tmp.dir, 'alice.key'), 'utf8');
    expect(x.checkPrivateKey(createPrivateKey(key))).toBe(true);
    const r = verifyWithOpenssl(pem, ['-purpose', 'sslclient']);
    expect(r.ok, r.out).toBe(true);
    expect(verifyWithOpenssl(pem, ['-purpose', 'sslserver']).ok).toBe(false);
  });

  it('issues from a node-forge CSR, PEM or bare base64 DER', () => {
    const { pem } = forgeCsr();
    const a = new X509Certificate(ca.issueFromCsr(pem, 'sip:bob@contoso.test', 4320));
    expect(a.subject).toBe('CN=sip:bob@contoso.test');
    const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const b = new X509Certificate(ca.issueFromCsr(b64, 'sip:bob@contoso.test', 24));
    expect(b.publicKey.export({ type: 'spki', format: 'der' })).toEqual(a.publicKey.export({ type: 'spki', format: 'der' }));
    expect(b.serialNumber).not.toBe(a.serialNumber);
  });

  it('rejects a CSR whose signature does not match (LAB_CSR_SIGNATURE)', () => {
    const { pem } = forgeCsr();
    const csr = forge.pki.certificationRequestFromPem(pem);
    // Change the subject after signing: the signature no longer covers what is sent.
    csr.setSubject([{ shortName: 'CN', value: 'sip:mallory@contoso.test' }]);
    csr.certificationRequestInfo = null;
    const tampered = forge.pki.certificationRequestToPem(csr);
    expect(() => ca.issueFromCsr(tampered, 'sip:bob@contoso.test', 8)).toThrowError(
      expect.objectContaining({ code: 'LAB_CSR_SIGNATURE', stage: 'certificate' }),
    );
    // A flipped bit in the signature of an openssl request.
    const der = Buffer.from(opensslCsr(['rsa:2048'], 'flip').replace(/-----[^-]+-----/g, ''), 'base64');
    der[der.length - 5] = der[der.length - 5]! ^ 0x01;
    expect(() => ca.issueFromCsr(der.toString('base64'), 'sip:alice@contoso.test', 8)).toThrowError(
      expect.objectContaining({ code: 'LAB_CSR_SIGNATURE' }),
    );
  });

  it('rejects malformed, non-RSA, weak and hostile requests with typed errors', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(TetherError);
        return (err as TetherError).code;
      }
      return 'no error';
    };
    const issue = (csr: string) => () => ca.issueFromCsr(csr, 'sip:alice@contoso.test', 8);
    expect(code(issue(''))).toBe('LAB_CSR_INVALID');
    expect(code(issue('not base64 at all!'))).toBe('LAB_CSR_INVALID');
    expect(code(issue('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'))).toBe('LAB_CSR_INVALID');
    expect(code(issue(ca.rootCertPem))).toBe('LAB_CSR_INVALID');
    expect(code(issue('A'.repeat(100_000)))).toBe('LAB_CSR_INVALID');
    const full = opensslCsr(['rsa:2048'], 'trunc');
    expect(code(issue(full.slice(0, full.length / 2) + '\n-----END CERTIFICATE REQUEST-----\n'))).toBe('LAB_CSR_INVALID');
    expect(code(issue(opensslCsr(['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'ec')))).toBe('LAB_CSR_INVALID');
    expect(code(issue(opensslCsr(['rsa:512'], 'weak')))).toBe('LAB_CSR_INVALID');
    const good = opensslCsr(['rsa:2048'], 'good');
    expect(code(() => ca.issueFromCsr(good, 'alice@contoso.test', 8))).toBe('BAD_INPUT');
    expect(code(() => ca.issueFromCsr(good, 'sip:alice@contoso.test', 0))).toBe('BAD_INPUT');
    expect(code(() => ca.issueFromCsr(good, 'sip:alice@contoso.test', 8761))).toBe('BAD_INPUT');
    expect(code(() => ca.issueFromCsr(good, 'sip:alice@contoso.test', Number.NaN))).toBe('BAD_INPUT');
  });

  it('keeps its root and intermediate across a reopen, and refuses an incomplete folder', async () => {
    const again = await openLabCa({ dir: caDir(), domain: 'contoso.test' });
    expect(again.rootFingerprint).toBe(ca.rootFingerprint);
    expect(again.intermediateCertPem).toBe(ca.intermediateCertPem);
    const other = tempDir();
    try {
      const fresh = await openLabCa({ dir: other.dir, domain: 'contoso.test' });
      expect(fresh.rootFingerprint).not.toBe(ca.rootFingerprint);
      unlinkSync(join(other.dir, CA_FILES.intermediateKey));
      await expect(openLabCa({ dir: other.dir, domain: 'contoso.test' })).rejects.toMatchObject({ code: 'LAB_STATE_CORRUPT' });
      writeFileSync(join(other.dir, CA_FILES.intermediateKey), 'garbage');
      await expect(openLabCa({ dir: other.dir, domain: 'contoso.test' })).rejects.toMatchObject({ code: 'LAB_STATE_CORRUPT' });
    } finally {
      other.remove();
    }
  });
});
