import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../../common/errors';
import { growth } from '../../../support/growth';
import {
  DEFAULT_SIP_LIMITS,
  header,
  headers,
  parseSipMessage,
  serializeSipMessage,
  SipStreamDecoder,
  type SipMessage,
} from '../../../../common/pool/sip';

const enc = (s: string) => new TextEncoder().encode(s);

const REGISTER =
  'REGISTER sip:contoso.test SIP/2.0\r\n' +
  'Via: SIP/2.0/TLS 127.0.0.1:5000;branch=z9hG4bKabc\r\n' +
  'f: <sip:alice@contoso.test>;tag=1\r\n' +
  'To: <sip:alice@contoso.test>\r\n' +
  'i: call-1\r\n' +
  'CSeq: 1 REGISTER\r\n' +
  'Contact: <sip:127.0.0.1:5000;transport=tls>;\r\n +sip.instance="<urn:uuid:x>"\r\n' +
  'l: 5\r\n\r\nhello';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TetherError) return `${err.code}:${String(err.detail.reason)}`;
    throw err;
  }
  return 'ok';
}

describe('SIP codec', () => {
  it('parses a request with compact headers and folding', () => {
    const msg = parseSipMessage(REGISTER);
    expect(msg.kind).toBe('request');
    if (msg.kind !== 'request') return;
    expect(msg.method).toBe('REGISTER');
    expect(msg.uri).toBe('sip:contoso.test');
    expect(header(msg, 'From')).toBe('<sip:alice@contoso.test>;tag=1');
    expect(header(msg, 'call-id')).toBe('call-1');
    expect(header(msg, 'Contact')).toBe('<sip:127.0.0.1:5000;transport=tls>; +sip.instance="<urn:uuid:x>"');
    expect(new TextDecoder().decode(msg.body)).toBe('hello');
  });

  it('round-trips through serialize, setting Content-Length from the body', () => {
    const msg: SipMessage = {
      kind: 'response',
      status: 401,
      reason: 'Unauthorized',
      headers: [
        { name: 'WWW-Authenticate', value: 'TLS-DSK realm="SIP Communications Service"' },
        { name: 'WWW-Authenticate', value: 'NTLM realm="x"' },
        { name: 'Content-Length', value: '999' },
      ],
      body: enc('body'),
    };
    const back = parseSipMessage(serializeSipMessage(msg));
    expect(back.kind).toBe('response');
    expect(headers(back, 'www-authenticate')).toHaveLength(2);
    expect(header(back, 'Content-Length')).toBe('4');
  });

  it('cuts messages out of a stream byte by byte, skipping keep-alive CRLFs', () => {
    const one = serializeSipMessage(parseSipMessage(REGISTER));
    const stream = new Uint8Array([13, 10, 13, 10, ...one, 13, 10, ...one]);
    const dec = new SipStreamDecoder();
    const got: SipMessage[] = [];
    for (const b of stream) got.push(...dec.push(new Uint8Array([b])));
    expect(got).toHaveLength(2);
    expect(dec.pending).toBe(0);
  });

  it.each([
    ['empty', '', 'SIP_MESSAGE_MALFORMED:truncated'],
    ['no blank line', 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n', 'SIP_MESSAGE_MALFORMED:truncated'],
    ['bad status line', 'SIP/2.0 20 OK\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-status-line'],
    ['status 700', 'SIP/2.0 700 Odd\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-status-line'],
    ['HTTP answer', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-version'],
    ['wrong version', 'REGISTER sip:x SIP/3.0\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-version'],
    ['bad method', 'REG<ISTER sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-method'],
    ['bad uri', 'REGISTER nouri SIP/2.0\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-request-uri'],
    ['no colon', 'SIP/2.0 200 OK\r\nContent-Length 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-header'],
    ['bad header name', 'SIP/2.0 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-header-name'],
    ['control char', 'SIP/2.0 200 OK\r\nX: a\u0001b\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-header-value'],
    ['bare LF', 'SIP/2.0 200 OK\nX: a\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bare-line-break'],
    ['leading fold', 'SIP/2.0 200 OK\r\n x\r\nContent-Length: 0\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-folding'],
    ['no length', 'SIP/2.0 200 OK\r\nX: y\r\n\r\n', 'SIP_MESSAGE_MALFORMED:no-content-length'],
    ['negative length', 'SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-content-length'],
    ['hex length', 'SIP/2.0 200 OK\r\nContent-Length: 0x10\r\n\r\n', 'SIP_MESSAGE_MALFORMED:bad-content-length'],
    ['conflicting lengths', 'SIP/2.0 200 OK\r\nContent-Length: 1\r\nl: 2\r\n\r\nab', 'SIP_MESSAGE_MALFORMED:conflicting-content-length'],
    ['short body', 'SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'SIP_MESSAGE_MALFORMED:truncated'],
    ['trailing bytes', 'SIP/2.0 200 OK\r\nContent-Length: 1\r\n\r\nabc', 'SIP_MESSAGE_MALFORMED:trailing-bytes'],
    ['huge length', 'SIP/2.0 200 OK\r\nContent-Length: 9999999999\r\n\r\n', 'SIP_MESSAGE_TOO_LARGE:body-too-large'],
  ])('refuses %s with a typed error', (_name, input, want) => {
    expect(codeOf(() => parseSipMessage(input))).toBe(want);
  });

  it('refuses bad UTF-8 in the head', () => {
    const bytes = new Uint8Array([...enc('SIP/2.0 200 OK\r\nX: '), 0xff, 0xfe, ...enc('\r\nContent-Length: 0\r\n\r\n')]);
    expect(codeOf(() => parseSipMessage(bytes))).toBe('SIP_MESSAGE_MALFORMED:bad-encoding');
  });

  it('bounds the head and the header count', () => {
    const big = 'SIP/2.0 200 OK\r\nX: ' + 'a'.repeat(DEFAULT_SIP_LIMITS.maxHeaderBytes) + '\r\nContent-Length: 0\r\n\r\n';
    expect(codeOf(() => parseSipMessage(big))).toBe('SIP_MESSAGE_TOO_LARGE:head-too-large');
    const many = 'SIP/2.0 200 OK\r\n' + 'X: 1\r\n'.repeat(DEFAULT_SIP_LIMITS.maxHeaders + 1) + 'Content-Length: 0\r\n\r\n';
    expect(codeOf(() => parseSipMessage(many))).toBe('SIP_MESSAGE_TOO_LARGE:too-many-headers');
    // A peer that never sends the blank line is cut off once it passes the limit, not buffered forever.
    const dec = new SipStreamDecoder();
    expect(dec.push(enc('SIP/2.0 200 OK\r\n'))).toEqual([]);
    expect(codeOf(() => dec.push(enc('X'.repeat(DEFAULT_SIP_LIMITS.maxHeaderBytes))))).toBe('SIP_MESSAGE_TOO_LARGE:head-too-large');
    // …and stays failed.
    expect(codeOf(() => dec.push(enc('\r\n\r\n')))).toBe('SIP_MESSAGE_TOO_LARGE:head-too-large');
  });

  it('never throws anything but a typed error on arbitrary bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 64 }), (bytes, chunk) => {
        const dec = new SipStreamDecoder({ maxHeaderBytes: 256, maxHeaders: 8, maxBodyBytes: 128 });
        try {
          for (let i = 0; i < bytes.length; i += chunk) dec.push(bytes.subarray(i, i + chunk));
        } catch (err) {
          expect(err).toBeInstanceOf(TetherError);
          expect(['SIP_MESSAGE_MALFORMED', 'SIP_MESSAGE_TOO_LARGE']).toContain((err as TetherError).code);
        }
        expect(dec.pending).toBeLessThanOrEqual(256 + 4 + 128 + 64);
      }),
      { numRuns: 3000 },
    );
  });

  it('survives mutations of a valid message (fuzz)', () => {
    const base = enc(REGISTER);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (edits) => {
        const bytes = base.slice();
        for (const [at, b] of edits) bytes[at] = b;
        try {
          const msg = parseSipMessage(bytes);
          // Whatever parses must serialise and parse back to the same thing.
          expect(parseSipMessage(serializeSipMessage(msg)).headers.length).toBe(msg.headers.filter((h) => h.name.toLowerCase() !== 'l' && h.name.toLowerCase() !== 'content-length').length + 1);
        } catch (err) {
          expect(err).toBeInstanceOf(TetherError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses to serialise a header that would inject a line', () => {
    const msg: SipMessage = { kind: 'response', status: 200, reason: 'OK', headers: [{ name: 'X', value: 'a\r\nEvil: 1' }], body: new Uint8Array() };
    expect(codeOf(() => serializeSipMessage(msg))).toBe('BAD_INPUT:undefined');
  });
});

describe('SIP stream decoder cost', () => {
  it('takes a maximal message one byte at a time in linear time', () => {
    // Head and body both scale with `eighths`: at 8 the message is maximal (both limits reached).
    const trickle = (eighths: number): void => {
      const body = 'x'.repeat((DEFAULT_SIP_LIMITS.maxBodyBytes / 8) * eighths);
      const filler = 'h'.repeat((DEFAULT_SIP_LIMITS.maxHeaderBytes / 8) * eighths - 100);
      const wire = enc(`SIP/2.0 200 OK\r\nX: ${filler}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      const dec = new SipStreamDecoder();
      const got: SipMessage[] = [];
      for (let i = 0; i < wire.length; i++) got.push(...dec.push(wire.subarray(i, i + 1)));
      expect(got).toHaveLength(1);
      expect(got[0]!.body.length).toBe(body.length);
    };
    // Eight times the bytes, one push each: ~8 times the work if copying and scanning are linear,
    // ~64 times if every push copied or rescanned what came before.
    const g = growth(trickle, 1, 8);
    expect(g.ratio).toBeLessThan(g.threshold);
  });
});
