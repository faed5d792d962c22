import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { parseCsr } from '../../../lab/ca/csr';

describe('CSR parsing of hostile input', () => {
  it('turns any text or DER garbage into LAB_CSR_INVALID or LAB_CSR_SIGNATURE, never another throw', () => {
    const der = fc.uint8Array({ minLength: 0, maxLength: 400 }).map((b) => Buffer.from(b).toString('base64'));
    const pem = der.map((b64) => `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), der, pem), (input) => {
        try {
          parseCsr(input);
          expect.unreachable('random input parsed as a valid CSR');
        } catch (err) {
          expect(err).toBeInstanceOf(TetherError);
          expect(['LAB_CSR_INVALID', 'LAB_CSR_SIGNATURE']).toContain((err as TetherError).code);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
