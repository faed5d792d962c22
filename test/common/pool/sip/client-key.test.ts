import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { clientKeyTooSmall, MIN_CLIENT_RSA_BITS, weakClientKeyError } from '../../../../common/pool/sip';
import { issue, testKey } from '../../../support/throwaway-pki';

function rsaKey(bits: number): forge.pki.rsa.PrivateKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
}

describe('client certificate key size', () => {
  it('refuses an RSA-1024 client certificate, PEM or DER, with REGISTRAR_KEY_TOO_SMALL and its size', () => {
    const small = issue({ cn: 'sip:alice@contoso.test', key: rsaKey(1024) });
    for (const cert of [small.pem, small.der]) {
      const e = clientKeyTooSmall(cert, 'The phone');
      expect(e?.code).toBe('REGISTRAR_KEY_TOO_SMALL');
      expect(e?.stage).toBe('logon');
      expect(e?.detail).toEqual({ keyBits: 1024 });
      expect(e?.message).toMatch(/^The phone cannot use its certificate: .*RSA-1024.*2048-bit key\.$/);
    }
  });

  it('lets a 2048-bit certificate through, and leaves an unreadable one to TLS', () => {
    expect(MIN_CLIENT_RSA_BITS).toBe(2048);
    expect(clientKeyTooSmall(issue({ cn: 'sip:alice@contoso.test', key: testKey(0) }).pem, 'Tether')).toBeNull();
    expect(clientKeyTooSmall('not a certificate', 'Tether')).toBeNull();
    expect(clientKeyTooSmall(Uint8Array.of(0x30, 0x03, 1, 2, 3), 'Tether')).toBeNull();
  });

  it("types OpenSSL's too-weak refusals and nothing else", () => {
    for (const code of ['ERR_SSL_EE_KEY_TOO_SMALL', 'ERR_SSL_CA_KEY_TOO_SMALL', 'ERR_SSL_CA_MD_TOO_WEAK']) {
      const e = weakClientKeyError(Object.assign(new Error('error:0A00018F:SSL routines::ee key too small'), { code }), 'Tether');
      expect(e?.code).toBe('REGISTRAR_KEY_TOO_SMALL');
      expect(e?.detail).toEqual({ nodeCode: code });
    }
    expect(weakClientKeyError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'Tether')).toBeNull();
    expect(weakClientKeyError('text', 'Tether')).toBeNull();
  });
});
