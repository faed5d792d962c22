import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../../common/errors';
import {
  AV_ID,
  DEFAULT_CLIENT_FLAGS,
  MSV_AV_FLAG_MIC_PRESENT,
  NTLM_FLAGS,
  NtlmClient,
  createChallenge,
  decodeAuthenticate,
  decodeAvPairs,
  decodeChallenge,
  decodeNegotiate,
  encodeChallenge,
  fileTime,
  verifyAuthenticate,
  type NtlmSecret,
} from '../../../../common/pool/ntlm';

const IDENTITY = { nbDomainName: 'CONTOSO', nbComputerName: 'POOL01', dnsDomainName: 'contoso.test', dnsComputerName: 'pool01.contoso.test' };
const users: Record<string, string> = { 'CONTOSO\\alice': 'Secret-1' };
const lookup = (domain: string, user: string): NtlmSecret | undefined => {
  const password = users[`${domain.toUpperCase()}\\${user.toLowerCase()}`];
  return password === undefined ? undefined : { password };
};
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function handshake(password: string | Uint8Array, clientOptions: ConstructorParameters<typeof NtlmClient>[1] = {}) {
  const client = new NtlmClient({ domain: 'CONTOSO', user: 'alice', password }, { workstation: 'DESK1', now: () => NOW, ...clientOptions });
  const negotiate = client.negotiate();
  const { message: challenge, state } = createChallenge(negotiate, IDENTITY, { now: () => NOW });
  const authenticate = client.authenticate(challenge);
  return { negotiate, challenge, state, authenticate };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TetherError);
    return (e as TetherError).code;
  }
  throw new Error('expected a throw');
}

describe('NTLMv2 handshake against our own server verifier', () => {
  it('the server CHALLENGE carries target info with a timestamp and echoes the client\'s flags', () => {
    const { negotiate, challenge } = handshake('Secret-1');
    expect(decodeNegotiate(negotiate).flags >>> 0).toBe(DEFAULT_CLIENT_FLAGS);
    const c = decodeChallenge(challenge);
    expect(c.targetName).toBe('CONTOSO');
    for (const bit of [NTLM_FLAGS.NEGOTIATE_UNICODE, NTLM_FLAGS.NEGOTIATE_TARGET_INFO, NTLM_FLAGS.NEGOTIATE_VERSION, NTLM_FLAGS.NEGOTIATE_KEY_EXCH, NTLM_FLAGS.NEGOTIATE_EXTENDED_SESSIONSECURITY]) {
      expect((c.flags & bit) >>> 0).toBe(bit >>> 0);
    }
    expect(c.flags & NTLM_FLAGS.NEGOTIATE_OEM).toBe(0);
    const ts = decodeAvPairs(c.targetInfo).find((p) => p.id === AV_ID.TIMESTAMP)!;
    expect(ts.value).toEqual(fileTime(NOW));
  });

  it('the client answers a timestamp with MsvAvFlags (MIC present), a MIC, Z(24) LM response and the Version', () => {
    const { authenticate } = handshake('Secret-1', { spn: 'HTTP/pool01.contoso.test' });
    const a = decodeAuthenticate(authenticate);
    expect(a.mic).not.toBeNull();
    expect(a.lmChallengeResponse).toEqual(Buffer.alloc(24));
    expect(a.version).toEqual({ major: 6, minor: 1, build: 7601, revision: 15 });
    expect(a.encryptedRandomSessionKey.length).toBe(16);
    const pairs = decodeAvPairs(a.ntChallengeResponse.subarray(44));
    expect(pairs.find((p) => p.id === AV_ID.FLAGS)!.value.readUInt32LE(0) & MSV_AV_FLAG_MIC_PRESENT).toBe(MSV_AV_FLAG_MIC_PRESENT);
    expect(pairs.find((p) => p.id === AV_ID.TARGET_NAME)!.value.toString('utf16le')).toBe('HTTP/pool01.contoso.test');
    expect(pairs.find((p) => p.id === AV_ID.TIMESTAMP)!.value).toEqual(fileTime(NOW));
    // The payload starts after the MIC; every offset is inside the message.
    expect(Math.min(...[12, 20, 28, 36, 44, 52].map((at) => authenticate.readUInt32LE(at + 4)))).toBe(88);
  });

  it('accepts the right password and rejects a wrong one', () => {
    const good = handshake('Secret-1');
    expect(verifyAuthenticate(good.state, good.authenticate, lookup)).toEqual({ ok: true, domain: 'CONTOSO', user: 'alice', workstation: 'DESK1' });
    const bad = handshake('Secret-2');
    expect(verifyAuthenticate(bad.state, bad.authenticate, lookup)).toMatchObject({ ok: false, reason: 'bad-proof' });
  });

  it('works with and without key exchange', () => {
    const flags = (DEFAULT_CLIENT_FLAGS & ~NTLM_FLAGS.NEGOTIATE_KEY_EXCH) >>> 0;
    const h = handshake('Secret-1', { flags });
    expect(decodeAuthenticate(h.authenticate).encryptedRandomSessionKey.length).toBe(0);
    expect(verifyAuthenticate(h.state, h.authenticate, lookup).ok).toBe(true);
  });

  it('accepts a non-ASCII password given as UTF-8 bytes', () => {
    users['CONTOSO\\alice'] = 'pässwörd✓';
    try {
      const h = handshake(Buffer.from('pässwörd✓', 'utf8'));
      expect(verifyAuthenticate(h.state, h.authenticate, lookup).ok).toBe(true);
    } finally {
      users['CONTOSO\\alice'] = 'Secret-1';
    }
  });

  it('detects a tampered MIC, NT response, session key or a replay against another challenge', () => {
    const h = handshake('Secret-1');
    const micFlip = Buffer.from(h.authenticate);
    micFlip[72]! ^= 1;
    expect(verifyAuthenticate(h.state, micFlip, lookup)).toMatchObject({ ok: false, reason: 'bad-mic' });
    const ntAt = h.authenticate.readUInt32LE(24);
    const proofFlip = Buffer.from(h.authenticate);
    proofFlip[ntAt + 3]! ^= 1;
    expect(verifyAuthenticate(h.state, proofFlip, lookup)).toMatchObject({ ok: false, reason: 'bad-proof' });
    const eskAt = h.authenticate.readUInt32LE(56);
    const eskFlip = Buffer.from(h.authenticate);
    eskFlip[eskAt]! ^= 1;
    expect(verifyAuthenticate(h.state, eskFlip, lookup)).toMatchObject({ ok: false, reason: 'bad-mic' });
    const flagsFlip = Buffer.from(h.authenticate);
    flagsFlip[60]! ^= NTLM_FLAGS.NEGOTIATE_SIGN;
    expect(verifyAuthenticate(h.state, flagsFlip, lookup)).toMatchObject({ ok: false, reason: 'bad-mic' });
    const other = handshake('Secret-1');
    expect(verifyAuthenticate(other.state, h.authenticate, lookup)).toMatchObject({ ok: false });
  });

  it('refuses an answer that does not echo the CHALLENGE\'s timestamp', () => {
    const client = new NtlmClient({ domain: 'CONTOSO', user: 'alice', password: 'Secret-1' }, { now: () => NOW });
    const negotiate = client.negotiate();
    const { state } = createChallenge(negotiate, IDENTITY, { now: () => NOW });
    // A challenge without a timestamp makes the client send no MIC; replay it against a state that had one.
    const noTs = encodeChallenge({ ...decodeChallenge(state.challenge), targetInfo: Buffer.concat([Buffer.from('02000e00', 'hex'), Buffer.from('CONTOSO', 'utf16le'), Buffer.alloc(4)]) });
    const authenticate = client.authenticate(noTs);
    expect(decodeAuthenticate(authenticate).mic).toBeNull();
    expect(verifyAuthenticate({ ...state, challenge: noTs, timestamp: null }, authenticate, lookup).ok).toBe(true);
    expect(verifyAuthenticate({ ...state, challenge: noTs }, authenticate, lookup)).toMatchObject({ ok: false, reason: 'timestamp-mismatch' });
  });

  it('rejects NTLMv1, anonymous and unknown users', () => {
    const h = handshake('Secret-1');
    const v1 = Buffer.from(h.authenticate);
    v1.writeUInt16LE(24, 20);
    v1.writeUInt16LE(24, 22);
    expect(verifyAuthenticate(h.state, v1, lookup)).toMatchObject({ ok: false, reason: 'ntlmv1' });
    expect(verifyAuthenticate(h.state, h.authenticate, () => undefined)).toMatchObject({ ok: false, reason: 'unknown-user' });
  });

  it('refuses a server that will not do Unicode', () => {
    const client = new NtlmClient({ domain: 'D', user: 'u', password: 'p' });
    client.negotiate();
    const challenge = encodeChallenge({ flags: NTLM_FLAGS.NEGOTIATE_OEM | NTLM_FLAGS.NEGOTIATE_NTLM, targetName: 'D', serverChallenge: Buffer.alloc(8), targetInfo: Buffer.alloc(0), version: null });
    expect(codeOf(() => client.authenticate(challenge))).toBe('NTLM_UNSUPPORTED');
  });
});

describe('NTLM decoders on hostile input', () => {
  const good = handshake('Secret-1');

  it.each([
    ['empty', Buffer.alloc(0)],
    ['bad signature', Buffer.concat([Buffer.from('NTLMSSX\0'), good.challenge.subarray(8)])],
    ['wrong type', (() => { const b = Buffer.from(good.challenge); b.writeUInt32LE(3, 8); return b; })()],
    ['truncated', good.challenge.subarray(0, 30)],
    ['target info past the end', (() => { const b = Buffer.from(good.challenge); b.writeUInt16LE(0x7fff, 40); return b; })()],
    ['offset into the header', (() => { const b = Buffer.from(good.challenge); b.writeUInt32LE(8, 16); return b; })()],
    ['AV pairs without EOL', (() => { const b = Buffer.from(good.challenge); const at = b.readUInt32LE(44); const len = b.readUInt16LE(40); b.fill(0x41, at + len - 4, at + len); return b; })()],
  ])('CHALLENGE: %s → NTLM_MALFORMED', (_label, bytes) => {
    expect(codeOf(() => decodeChallenge(bytes))).toBe('NTLM_MALFORMED');
  });

  it('AUTHENTICATE with fields out of bounds or a truncated NTLMv2 blob → NTLM_MALFORMED', () => {
    const past = Buffer.from(good.authenticate);
    past.writeUInt32LE(past.length - 2, 28);
    expect(codeOf(() => decodeAuthenticate(past))).toBe('NTLM_MALFORMED');
    expect(codeOf(() => verifyAuthenticate(good.state, good.authenticate.subarray(0, 60), lookup))).toBe('NTLM_MALFORMED');
    const shortBlob = Buffer.from(good.authenticate);
    shortBlob.writeUInt16LE(30, 20);
    expect(codeOf(() => verifyAuthenticate(good.state, shortBlob, lookup))).toBe('NTLM_MALFORMED');
  });

  it('never throws anything but a typed error on random or mutated messages', () => {
    const typed = (fn: () => unknown): boolean => {
      try {
        fn();
        return true;
      } catch (e) {
        return e instanceof TetherError;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => typed(() => decodeChallenge(bytes)) && typed(() => decodeAuthenticate(bytes)) && typed(() => decodeNegotiate(bytes))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.authenticate.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (edits) => {
        const b = Buffer.from(good.authenticate);
        for (const [at, v] of edits) b[at] = v;
        return typed(() => verifyAuthenticate(good.state, b, lookup));
      }),
      { numRuns: 2000 },
    );
  });
});
