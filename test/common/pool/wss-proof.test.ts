import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveProofKey, pSha1, signTimestamp, verifyTimestampSignature } from '../../../common/pool/wss-proof';

const hex = (s: string) => Buffer.from(s.replace(/:/g, ''), 'hex');

describe('P_SHA1 (WS-Trust CK/PSHA1)', () => {
  // Vectors from `openssl kdf -kdfopt digest:SHA1 … TLS1-PRF` (P_SHA1 with an empty label).
  it('matches OpenSSL for a 32-byte key', () => {
    const secret = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const seed = Buffer.from(Array.from({ length: 32 }, (_, i) => 0xa0 + i));
    expect(pSha1(secret, seed, 32)).toEqual(hex('4AD119ACD77CD6030302E87DE1E86D277D10B05C8982A3C9709C60B03D03C7A6'));
  });

  it('matches OpenSSL across several HMAC blocks (50 bytes)', () => {
    expect(pSha1(hex('0b0b0b'), hex('cafe'), 50)).toEqual(
      hex('0913316083 29958A852AF3FFEDC419A5CD9E484C713155427E16E4FE998F782B7C604F350CFB502A1380D9F45396334B811F'.replace(/ /g, '')),
    );
  });

  it('derives the proof key as P_SHA1(client entropy, server entropy) of the client entropy length', () => {
    const c = Buffer.alloc(32, 1);
    const s = Buffer.alloc(32, 2);
    expect(deriveProofKey(c, s)).toEqual(pSha1(c, s, 32));
    expect(() => deriveProofKey(Buffer.alloc(4), s)).toThrow(RangeError);
  });
});

describe('Timestamp signature (HMAC-SHA1 over exc-c14n SignedInfo)', () => {
  const key = Buffer.alloc(32, 7);
  const created = '2026-11-25T10:00:00Z';
  const expires = '2026-11-25T18:00:00Z';

  it('digests the canonical Timestamp and signs the canonical SignedInfo', () => {
    const sig = signTimestamp(key, created, expires);
    expect(sig.timestampXml).toBe(
      '<wsu:Timestamp xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" wsu:Id="timestamp">' +
        '<wsu:Created>2026-11-25T10:00:00Z</wsu:Created><wsu:Expires>2026-11-25T18:00:00Z</wsu:Expires></wsu:Timestamp>',
    );
    expect(sig.digestBase64).toBe(createHash('sha1').update(sig.timestampXml).digest('base64'));
    expect(sig.signedInfoXml).toContain('<Reference URI="#timestamp">');
    expect(sig.signedInfoXml).not.toMatch(/\/>/); // c14n never uses the empty-element shorthand
    expect(sig.signatureBase64).toBe(createHmac('sha1', key).update(sig.signedInfoXml).digest('base64'));
  });

  it('verifies its own signature and rejects a changed time, digest or key', () => {
    const sig = signTimestamp(key, created, expires);
    const rx = { created, expires, digestBase64: sig.digestBase64, signatureBase64: sig.signatureBase64 };
    expect(verifyTimestampSignature(key, rx)).toBe('ok');
    expect(verifyTimestampSignature(key, { ...rx, expires: '2027-01-01T00:00:00Z' })).toBe('bad-digest');
    expect(verifyTimestampSignature(Buffer.alloc(32, 8), rx)).toBe('bad-signature');
    expect(verifyTimestampSignature(key, { ...rx, signatureBase64: '' })).toBe('bad-signature');
  });
});
