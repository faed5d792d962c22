import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../../common/errors';
import { decodePemCertificates, decodePkcs7Certificates, encodePkcs7Certificates } from '../../../../common/pool/chain/pkcs7';
import { chainPems, checkServerChain, decideTrust, normaliseFingerprint, parseChainDocument, validateChain } from '../../../../main/pool/chain';
import { issue, makePki, testKey } from '../../../support/throwaway-pki';
import { failure } from '../../../support/failure';
import { openssl, tempDir } from '../../../lab/support';

const pki = makePki();
const now = new Date();
const DAY = 86_400_000;

describe('chain parsing', () => {
  it('reads certs-only PKCS#7 (DER and PEM) and PEM bundles to the same certificates', () => {
    const p7 = encodePkcs7Certificates([pki.intermediate.pem, pki.root.pem]);
    const fromDer = decodePkcs7Certificates(p7);
    expect(fromDer.map((d) => Buffer.from(d).toString('hex'))).toEqual([pki.intermediate.der, pki.root.der].map((d) => Buffer.from(d).toString('hex')));
    const p7pem = `-----BEGIN PKCS7-----\n${Buffer.from(p7).toString('base64')}\n-----END PKCS7-----\n`;
    expect(decodePemCertificates(p7pem)).toHaveLength(2);
    expect(decodePemCertificates(pki.intermediate.pem + pki.root.pem)).toHaveLength(2);
    expect(parseChainDocument(p7, 'application/pkcs7-mime; smime-type=certs-only')).toHaveLength(2);
    expect(parseChainDocument(Buffer.from(pki.root.pem), 'application/x-pem-file')).toHaveLength(1);
  });

  it.each([
    ['empty', new Uint8Array(0), 'application/pkcs7-mime'],
    ['garbage DER', new Uint8Array([0x30, 0x82, 0xff, 0xff, 1, 2]), 'application/pkcs7-mime'],
    ['a bare certificate', pki.root.der, 'application/pkcs7-mime'],
    ['trailing bytes', new Uint8Array([...encodePkcs7Certificates([pki.root.pem]), 0]), 'application/pkcs7-mime'],
    ['HTML', Buffer.from('<html>oops</html>'), 'text/html'],
    ['a PEM private key', Buffer.from(pki.root.keyPem), 'application/x-pem-file'],
    ['bad base64', Buffer.from('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'), 'application/x-pem-file'],
    ['no PEM block', Buffer.from('hello'), 'application/x-pem-file'],
  ])('refuses %s as CHAIN_MALFORMED', (_name, body, type) => {
    expect(failure(() => validateChain(parseChainDocument(body, type), now)).code).toBe('CHAIN_MALFORMED');
  });

  it('refuses a truncated PKCS#7 at every length', () => {
    const p7 = encodePkcs7Certificates([pki.intermediate.pem, pki.root.pem]);
    for (let n = 0; n < p7.length; n += 7) {
      expect(failure(() => decodePkcs7Certificates(p7.subarray(0, n))).code).toBe('CHAIN_MALFORMED');
    }
  });
});

describe('chain validation', () => {
  it('orders a good chain deepest first, whatever the order it came in', () => {
    const v = validateChain([pki.root.der, pki.intermediate.der], now);
    expect(v.root.subject).toContain('Test Root CA');
    expect(v.intermediates.map((c) => c.subject)).toEqual([expect.stringContaining('Test Issuing CA')]);
    expect(chainPems(v)).toEqual([expect.stringContaining('BEGIN CERTIFICATE'), v.root.pem]);
  });

  it('orders a three-level chain', () => {
    const sub = issue({ cn: 'Test Sub CA', key: testKey(3), ca: true, issuer: pki.intermediate });
    const v = validateChain([pki.intermediate.der, pki.root.der, sub.der], now);
    expect(v.intermediates.map((c) => c.subject.match(/CN=([^,]+)/)![1])).toEqual(['Test Sub CA', 'Test Issuing CA']);
  });

  it('refuses an expired intermediate', () => {
    const old = issue({ cn: 'Old CA', key: testKey(3), ca: true, issuer: pki.root, notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
    const e = failure(() => validateChain([pki.root.der, old.der], now));
    expect(e.code).toBe('CHAIN_CERT_EXPIRED');
    expect(e.stage).toBe('ca-chain');
    expect(e.detail.subject).toContain('Old CA');
  });

  it('refuses an intermediate signed by another key than its named issuer', () => {
    const forged = issue({ cn: 'Forged CA', key: testKey(3), ca: true, issuer: pki.root, signWith: testKey(4) });
    expect(failure(() => validateChain([pki.root.der, forged.der], now)).code).toBe('CHAIN_BAD_SIGNATURE');
  });

  it('refuses a non-CA intermediate', () => {
    const notCa = issue({ cn: 'Not a CA', key: testKey(3), ca: false, issuer: pki.root });
    expect(failure(() => validateChain([pki.root.der, notCa.der], now)).code).toBe('CHAIN_NOT_CA');
    const underIt = issue({ cn: 'Below', key: testKey(4), ca: true, issuer: notCa });
    expect(failure(() => validateChain([pki.root.der, notCa.der, underIt.der], now)).code).toBe('CHAIN_NOT_CA');
  });

  it('reports a missing intermediate and a missing root', () => {
    const sub = issue({ cn: 'Test Sub CA', key: testKey(3), ca: true, issuer: pki.intermediate });
    const e = failure(() => validateChain([pki.root.der, sub.der], now));
    expect(e.code).toBe('CHAIN_INTERMEDIATE_MISSING');
    expect(e.detail.missingIssuer).toContain('Test Issuing CA');
    expect(failure(() => validateChain([pki.intermediate.der], now)).code).toBe('CHAIN_ROOT_MISSING');
  });

  it('refuses a CA below an intermediate whose path length forbids it (RFC 5280 pathLenConstraint)', () => {
    const zero = issue({ cn: 'Leaf-only CA', key: testKey(3), ca: true, pathLen: 0, issuer: pki.root });
    const sub = issue({ cn: 'Sub CA', key: testKey(4), ca: true, issuer: zero });
    expect(validateChain([pki.root.der, zero.der], now).intermediates[0]!.pathLen).toBe(0);
    const e = failure(() => validateChain([pki.root.der, zero.der, sub.der], now));
    expect(e.code).toBe('CHAIN_PATH_LENGTH');
    expect(e.stage).toBe('ca-chain');
    expect(e.detail).toMatchObject({ subject: expect.stringContaining('Leaf-only CA'), pathLen: 0, below: 1 });
    expect(e.fix).toMatch(/path length/);
  });

  it('counts every CA below a root with a path length, and accepts a path that fits', () => {
    const root = issue({ cn: 'Short Root', key: testKey(5), ca: true, pathLen: 1 });
    const mid = issue({ cn: 'Mid CA', key: testKey(3), ca: true, issuer: root });
    const low = issue({ cn: 'Low CA', key: testKey(4), ca: true, issuer: mid });
    expect(validateChain([root.der, mid.der], now).intermediates).toHaveLength(1);
    const e = failure(() => validateChain([root.der, mid.der, low.der], now));
    expect(e.code).toBe('CHAIN_PATH_LENGTH');
    expect(e.detail).toMatchObject({ subject: expect.stringContaining('Short Root'), pathLen: 1, below: 2 });
  });

  it('refuses a CA whose key usage lacks keyCertSign', () => {
    expect(validateChain([pki.root.der, pki.intermediate.der], now).intermediates[0]!.keyCertSign).toBe(true);
    const noSign = issue({ cn: 'No-sign CA', key: testKey(3), ca: true, keyCertSign: false, issuer: pki.root });
    const sub = issue({ cn: 'Sub CA', key: testKey(4), ca: true, issuer: noSign });
    for (const ders of [[pki.root.der, noSign.der], [pki.root.der, noSign.der, sub.der]]) {
      const e = failure(() => validateChain(ders, now));
      expect(e.code).toBe('CHAIN_CA_KEY_USAGE');
      expect(e.stage).toBe('ca-chain');
      expect(e.detail.subject).toContain('No-sign CA');
    }
    // The server's own intermediate is held to the same rule before it may sign the leaf.
    const leaf = issue({ cn: 'pool01.contoso.test', key: testKey(2), issuer: noSign });
    expect(failure(() => checkServerChain(validateChain([pki.root.der], now), [leaf.der, noSign.der], now)).code).toBe('CHAIN_CA_KEY_USAGE');
    const badRoot = issue({ cn: 'No-sign Root', key: testKey(5), ca: true, keyCertSign: false });
    const child = issue({ cn: 'Child CA', key: testKey(3), ca: true, issuer: badRoot });
    expect(failure(() => validateChain([badRoot.der, child.der], now)).code).toBe('CHAIN_CA_KEY_USAGE');
  });

  it('reads the path length of EC CAs too (openssl-made P-256 chain)', () => {
    const tmp = tempDir('tether-ec-chain-');
    try {
      const run = (args: string[]) => expect(openssl(args, tmp.dir).out).not.toMatch(/error/i);
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
      writeFileSync(join(tmp.dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n');
      run(['req', '-x509', ...ec, '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=EC Root', '-days', '2']);
      for (const [name, issuer] of [['mid', 'root'], ['sub', 'mid']] as const) {
        run(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=EC ${name}`]);
        run(['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-extfile', 'ca.ext', '-out', `${name}.pem`, '-days', '2']);
      }
      const der = (name: string) => decodePemCertificates(readFileSync(join(tmp.dir, `${name}.pem`), 'utf8'))[0]!;
      // These certificates start now (openssl's notBefore), after this file's `now`.
      const later = new Date(Date.now() + 60_000);
      expect(validateChain([der('root'), der('mid')], later).intermediates[0]!.pathLen).toBe(0);
      const e = failure(() => validateChain([der('root'), der('mid'), der('sub')], later));
      expect(e.code).toBe('CHAIN_PATH_LENGTH');
      expect(e.detail.subject).toContain('EC mid');
    } finally {
      tmp.remove();
    }
  });

  it('refuses two roots', () => {
    const other = issue({ cn: 'Other Root', key: testKey(3), ca: true });
    expect(failure(() => validateChain([pki.root.der, other.der], now)).detail.reason).toBe('several-roots');
  });
});

describe('the pool TLS certificate against the chain', () => {
  const v = validateChain([pki.root.der, pki.intermediate.der], now);

  it('accepts a leaf under the chain', () => {
    expect(checkServerChain(v, [pki.leaf.der], now).inferred).toEqual([]);
  });

  it('picks up an intermediate the server sends but the download lacks', () => {
    const rootOnly = validateChain([pki.root.der], now);
    const check = checkServerChain(rootOnly, [pki.leaf.der, pki.intermediate.der], now);
    expect(check.inferred.map((c) => c.fingerprint256)).toEqual([v.intermediates[0]!.fingerprint256]);
  });

  it('reports the USB-tethering failure: intermediate in neither place', () => {
    const rootOnly = validateChain([pki.root.der], now);
    const e = failure(() => checkServerChain(rootOnly, [pki.leaf.der], now));
    expect(e.code).toBe('CHAIN_INTERMEDIATE_MISSING');
    expect(e.detail.where).toBe('server');
  });

  it('counts an intermediate the server sends against the path length of the downloaded CAs', () => {
    const zero = issue({ cn: 'Leaf-only CA', key: testKey(3), ca: true, pathLen: 0, issuer: pki.root });
    const served = issue({ cn: 'Served Sub CA', key: testKey(4), ca: true, issuer: zero });
    const leaf = issue({ cn: 'pool01.contoso.test', key: testKey(2), issuer: served });
    const downloaded = validateChain([pki.root.der, zero.der], now);
    const e = failure(() => checkServerChain(downloaded, [leaf.der, served.der], now));
    expect(e.code).toBe('CHAIN_PATH_LENGTH');
    expect(e.detail).toMatchObject({ subject: expect.stringContaining('Leaf-only CA'), below: 1 });
    const direct = issue({ cn: 'pool01.contoso.test', key: testKey(2), issuer: zero });
    expect(checkServerChain(downloaded, [direct.der], now).inferred).toEqual([]);
    const rootLimited = issue({ cn: 'Short Root', key: testKey(5), ca: true, pathLen: 0 });
    const mid = issue({ cn: 'Mid CA', key: testKey(3), ca: true, issuer: rootLimited });
    const midLeaf = issue({ cn: 'pool01.contoso.test', key: testKey(2), issuer: mid });
    expect(failure(() => checkServerChain(validateChain([rootLimited.der], now), [midLeaf.der, mid.der], now)).code).toBe('CHAIN_PATH_LENGTH');
  });

  it('refuses a leaf from another CA and an expired leaf', () => {
    const stranger = issue({ cn: 'pool01.contoso.test', key: testKey(3), issuer: issue({ cn: 'Test Issuing CA', key: testKey(4), ca: true }) });
    expect(failure(() => checkServerChain(v, [stranger.der], now)).code).toBe('CHAIN_BAD_SIGNATURE');
    const expired = issue({ cn: 'pool01', key: testKey(2), issuer: pki.intermediate, notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
    expect(failure(() => checkServerChain(v, [expired.der], now)).code).toBe('CHAIN_SERVER_MISMATCH');
  });
});

describe('trust decision', () => {
  const v = validateChain([pki.root.der, pki.intermediate.der], now);

  it('trusts a root in the (injected) OS store', () => {
    expect(decideTrust(v.root, { osRoots: [pki.root.pem] })).toBe('os-store');
  });

  it('trusts a pinned fingerprint in any spelling', () => {
    const pin = v.root.fingerprint256.replace(/:/g, '').toLowerCase();
    expect(decideTrust(v.root, { osRoots: [], pinnedFingerprints: [pin] })).toBe('pinned');
    expect(normaliseFingerprint(pin)).toBe(v.root.fingerprint256);
    expect(failure(() => normaliseFingerprint('abc')).code).toBe('BAD_INPUT');
  });

  it('refuses an unknown root with its fingerprint in detail, also against the real OS store', () => {
    const e = failure(() => decideTrust(v.root, { osRoots: [], pinnedFingerprints: ['00'.repeat(32)] }));
    expect(e.code).toBe('CHAIN_ROOT_UNTRUSTED');
    expect(e.stage).toBe('ca-chain');
    expect(e.detail.fingerprint).toBe(v.root.fingerprint256);
    expect(failure(() => decideTrust(v.root)).code).toBe('CHAIN_ROOT_UNTRUSTED');
  });
});

describe('hostile chain documents (fuzz)', () => {
  it('a mutated PKCS#7 either still validates or fails with a typed CHAIN_* error', async () => {
    const fc = (await import('fast-check')).default;
    const p7 = encodePkcs7Certificates([pki.intermediate.pem, pki.root.pem]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(p7.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const bytes = p7.slice();
        for (const [at, b] of edits) bytes[at] = b;
        try {
          validateChain(decodePkcs7Certificates(bytes), now);
        } catch (err) {
          expect(err).toBeInstanceOf(TetherError);
          expect((err as TetherError).code).toMatch(/^CHAIN_/);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
