import { describe, expect, it } from 'vitest';
import { parseCsr } from '../../../lab/ca/csr';
import { failure } from '../../support/failure';
import { makeCsr, makeHostileCsr } from '../../support/csr';

// The exponent an attacker would send is far larger (seconds of modPow); 2^2048+1 keeps the test
// quick on the old code path while being just as far outside the bound.
const HUGE_EXPONENT = 2n ** 2048n + 1n;

describe('the lab bounds a request key before checking its signature', () => {
  it('refuses a huge public exponent as LAB_CSR_INVALID (exponent), not as a bad signature', () => {
    const e = failure(() => parseCsr(makeHostileCsr({ exponent: HUGE_EXPONENT })));
    expect(e.code).toBe('LAB_CSR_INVALID');
    expect(e.detail.problem).toBe('exponent');
  });

  it('refuses an even or tiny exponent, and a modulus above MaxCSRKeySize', () => {
    expect(failure(() => parseCsr(makeHostileCsr({ exponent: 65536n }))).detail.problem).toBe('exponent');
    expect(failure(() => parseCsr(makeHostileCsr({ exponent: 1n }))).detail.problem).toBe('exponent');
    const big = failure(() => parseCsr(makeHostileCsr({ modulusBits: 16384 + 8 })));
    expect(big.code).toBe('LAB_CSR_INVALID');
    expect(big.detail.problem).toBe('key-size');
  });

  it('still accepts an ordinary request', () => {
    const ok = parseCsr(makeCsr('sip:alice@contoso.test').csrPem);
    expect(ok.keyBits).toBe(2048);
    expect(ok.commonName).toBe('sip:alice@contoso.test');
  });
});
