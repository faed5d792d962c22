import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLabCa, type PersistentLabCa } from '../../../lab/ca/ca';
import { checkIssuedCertificate, makeThrowawayKey, type ThrowawayKey } from '../../../main/bootstrap/throwaway-key';
import { tempDir } from '../../lab/support';
import { failure } from '../../support/failure';

let tmp: { dir: string; remove: () => void };
let ca: PersistentLabCa;
let other: PersistentLabCa;
let key: ThrowawayKey;
let issued: string;
const SIP = 'sip:alice@contoso.test';

beforeAll(async () => {
  tmp = tempDir('tether-throwaway-');
  ca = await openLabCa({ dir: join(tmp.dir, 'a'), domain: 'contoso.test' });
  other = await openLabCa({ dir: join(tmp.dir, 'b'), domain: 'contoso.test' });
  key = makeThrowawayKey();
  issued = ca.issueFromCsr(key.csrFor(SIP), SIP, 24);
});

afterAll(() => tmp?.remove());

describe('throw-away key and CSR', () => {
  it('makes an RSA-2048 PKCS#10 request with CN=<SIP URI>, self-signed with the key', () => {
    const csr = forge.pki.certificationRequestFromPem(key.csrFor(SIP));
    expect(csr.verify()).toBe(true);
    expect(csr.subject.getField('CN').value).toBe(SIP);
    expect((csr.publicKey as forge.pki.rsa.PublicKey).n.bitLength()).toBe(2048);
    expect(forge.pki.publicKeyToPem(csr.publicKey!).replace(/\r/g, '')).toBe(key.publicKeyPem);
  });

  it('refuses to be used after dispose', () => {
    const k = makeThrowawayKey(1024);
    k.dispose();
    expect(failure(() => k.csrFor(SIP)).code).toBe('INTERNAL');
    expect(failure(() => k.privateKeyPem()).code).toBe('INTERNAL');
  });
});

describe('checkIssuedCertificate', () => {
  it('accepts a certificate for our key that chains to the stage-6 chain, and names the path', () => {
    const c = checkIssuedCertificate(issued, key.publicKeyPem, ca.chainPems(), new Date());
    expect(c.subject).toContain(SIP);
    expect(c.path).toHaveLength(2);
    expect(c.path[1]).toContain('Root');
    expect(c.fingerprint256).toBe(new X509Certificate(issued).fingerprint256);
  });

  it('refuses a certificate that carries another key', () => {
    const e = failure(() => checkIssuedCertificate(issued, makeThrowawayKey(1024).publicKeyPem, ca.chainPems(), new Date()));
    expect(e).toMatchObject({ code: 'CERTPROV_BAD_RESPONSE', detail: { reason: 'key-mismatch' } });
  });

  it('refuses a certificate that does not chain to the validated chain (another CA with the same names is not enough)', () => {
    // Same subject names, other keys: only the signature check can tell them apart.
    expect(new X509Certificate(other.intermediateCertPem).subject).toBe(new X509Certificate(ca.intermediateCertPem).subject);
    const e = failure(() => checkIssuedCertificate(issued, key.publicKeyPem, other.chainPems(), new Date()));
    expect(e).toMatchObject({ code: 'CERTPROV_BAD_RESPONSE', detail: { reason: 'not-in-chain' } });
    // Only the root: the intermediate is missing.
    const e2 = failure(() => checkIssuedCertificate(issued, key.publicKeyPem, [ca.rootCertPem], new Date()));
    expect(e2.detail.reason).toBe('not-in-chain');
  });

  it('refuses one outside its dates and one that cannot be read', () => {
    const later = new Date(Date.now() + 48 * 3600 * 1000);
    expect(failure(() => checkIssuedCertificate(issued, key.publicKeyPem, ca.chainPems(), later)).detail.reason).toBe('dates');
    expect(failure(() => checkIssuedCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key.publicKeyPem, ca.chainPems(), new Date())).detail.reason).toBe('unreadable');
  });
});
