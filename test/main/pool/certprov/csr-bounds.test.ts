import { describe, expect, it } from 'vitest';
import { checkCsrDer, csrDerFromText, MAX_CSR_EXPONENT } from '../../../../common/pool/csr-check';
import { makeCsr, makeHostileCsr } from '../../../support/csr';

describe('the shared PKCS#10 check', () => {
  const der = (pem: string) => csrDerFromText(pem)!;

  it('accepts a good request and returns its SPKI', () => {
    const r = checkCsrDer(der(makeCsr('sip:alice@contoso.test').csrPem));
    expect(r.ok && r.keyBits).toBe(2048);
    expect(r.ok && r.exponent).toBe(65537n);
  });

  it('bounds the exponent and the key size before any signature check', () => {
    const r = checkCsrDer(der(makeHostileCsr({ exponent: MAX_CSR_EXPONENT * 2n + 1n })));
    expect(r).toMatchObject({ ok: false, problem: 'exponent' });
    expect(checkCsrDer(der(makeHostileCsr({ modulusBits: 16392 })))).toMatchObject({ ok: false, problem: 'key-size' });
    expect(checkCsrDer(der(makeCsr('sip:a@b.c', 1024).csrPem)), 'custom bounds').toMatchObject({ ok: true });
    expect(checkCsrDer(der(makeCsr('sip:a@b.c', 1024).csrPem), { minBits: 2048, maxBits: 4096 })).toMatchObject({ ok: false, problem: 'key-size' });
  });

  it('reports a tampered request as a bad signature, and garbage as malformed', () => {
    const good = der(makeCsr('sip:alice@contoso.test').csrPem);
    const tampered = Buffer.from(good);
    tampered[tampered.length - 5]! ^= 0x01;
    expect(checkCsrDer(tampered)).toMatchObject({ ok: false, problem: 'signature' });
    expect(checkCsrDer(Buffer.from('3003020100', 'hex'))).toMatchObject({ ok: false, problem: 'malformed' });
    expect(csrDerFromText('not base64 !')).toBeNull();
  });
});
