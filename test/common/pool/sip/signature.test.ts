import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSipMessage, signatureBuffer, signatureMatches, signBuffer } from '../../../../common/pool/sip';

const crlf = (lines: string[]) => new TextEncoder().encode(lines.join('\r\n') + '\r\n\r\n');

const REQUEST = parseSipMessage(
  crlf([
    'REGISTER sip:contoso.test SIP/2.0',
    'Via: SIP/2.0/TLS 10.0.0.5:51234;branch=z9hG4bKabc',
    'From: "Alice" <sip:alice@contoso.test>;tag=5a1e;epid=0102030405',
    'To: <sip:alice@contoso.test>',
    'Call-ID: 0f9e8d7c',
    'CSeq: 4 REGISTER',
    'Content-Length: 0',
  ]),
);
const RESPONSE = parseSipMessage(
  crlf([
    'SIP/2.0 200 OK',
    'From: <sip:alice@contoso.test>;tag=5a1e;epid=0102030405',
    'To: <sip:alice@contoso.test>;tag=B00F',
    'Call-ID: 0f9e8d7c',
    'CSeq: 4 REGISTER',
    'P-Asserted-Identity: <sip:alice@contoso.test>, <tel:+14255550100>',
    'Expires: 7200',
    'Content-Length: 0',
  ]),
);
const params = (rand: string, num: string) => ({ protocol: 'TLS-DSK', rand, num, realm: 'SIP Communications Service', targetname: 'pool01.contoso.test' });

describe('MS-SIPAE signature buffer', () => {
  it('lists a request as version 4 has it: no To tag, no asserted identity, no Expires', () => {
    expect(signatureBuffer(REQUEST, params('1f2e3d4c', '1'), 4)).toBe(
      '<TLS-DSK><1f2e3d4c><1><SIP Communications Service><pool01.contoso.test><0f9e8d7c><4><REGISTER><sip:alice@contoso.test><5a1e><sip:alice@contoso.test><><><><>',
    );
  });

  it('adds the response code, the asserted identities and Expires for a response', () => {
    expect(signatureBuffer(RESPONSE, params('0A0B0C0D', '7'), 4)).toBe(
      '<TLS-DSK><0A0B0C0D><7><SIP Communications Service><pool01.contoso.test><0f9e8d7c><4><REGISTER><sip:alice@contoso.test><5a1e><sip:alice@contoso.test><B00F><sip:alice@contoso.test><tel:+14255550100><7200><200>',
    );
  });

  it('drops the To URI and asserted identities before version 3', () => {
    expect(signatureBuffer(RESPONSE, params('r', 'n'), 2)).toBe(
      '<TLS-DSK><r><n><SIP Communications Service><pool01.contoso.test><0f9e8d7c><4><REGISTER><sip:alice@contoso.test><5a1e><B00F><7200><200>',
    );
  });

  it('signs with HMAC in lower-case hex and checks case-insensitively, refusing anything else', () => {
    const key = Buffer.alloc(32, 7);
    const buffer = signatureBuffer(REQUEST, params('1f2e3d4c', '1'), 4);
    const hex = signBuffer('sha1', key, buffer);
    expect(hex).toBe(createHmac('sha1', key).update(buffer).digest('hex'));
    expect(signatureMatches('sha1', key, buffer, hex.toUpperCase())).toBe(true);
    expect(signatureMatches('sha1', key, buffer + 'x', hex)).toBe(false);
    expect(signatureMatches('sha1', key, buffer, hex.slice(2))).toBe(false);
    expect(signatureMatches('sha1', key, buffer, 'zz' + hex.slice(2))).toBe(false);
  });
});
