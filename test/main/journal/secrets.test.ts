import { describe, expect, it } from 'vitest';
import { findSecretField, isSecretKey } from '../../../main/journal';

describe('isSecretKey', () => {
  it('names secrets however they are spelt', () => {
    for (const key of ['pin', 'PIN', 'userPin', 'user_pin', 'pin-code', 'pinCode', 'password', 'Password', 'newPassword', 'passwordHash', 'passwd', 'pwd', 'secret', 'clientSecret', 'ticket', 'webTicket', 'web_ticket', 'WebTicketXml', 'credentials', 'accessToken', 'samlAssertion', 'privateKey', 'private_key_pem', 'passphrase', 'ticketXml']) {
      expect(isSecretKey(key), key).toBe(true);
    }
  });

  it('leaves facts that merely mention one', () => {
    for (const key of ['webTicketUrl', 'ticketExpires', 'pinnedFingerprints', 'pinned', 'spinner', 'shipping', 'method', 'kind', 'hostKey', 'publicKey', 'tokenEndpoint', 'secretsRedacted', 'user', 'sipUri']) {
      expect(isSecretKey(key), key).toBe(false);
    }
  });
});

describe('findSecretField', () => {
  it('finds the first secret field at any depth, with its path', () => {
    expect(findSecretField({ a: { b: [{ c: 1 }, { d: { pin: '1' } }] } })).toBe('$.a.b[1].d.pin');
    expect(findSecretField([{ ok: true }, { password: 'x' }])).toBe('$[1].password');
    expect(findSecretField({ a: 'pin', b: ['password'] })).toBeNull();
    expect(findSecretField(null)).toBeNull();
  });
});
