import { describe, expect, it } from 'vitest';
import {
  NTLM_FLAGS,
  buildAuthenticate,
  computeNtlmV2,
  decodeAuthenticate,
  decodeAvPairs,
  decodeChallenge,
  decodeNegotiate,
  encodeChallenge,
  encodeNegotiate,
  fileTime,
  fileTimeToMs,
  ntHash,
  ntlmV2ClientBlob,
  ntowfV2,
  rc4,
  utf8ToUtf16le,
  verifyAuthenticate,
  avString,
  AV_ID,
} from '../../../../common/pool/ntlm';

/**
 * MS-NLMP §4.2 test vectors. §4.2.1 common values: User "User", UserDom "Domain", Passwd
 * "Password", server name "Server", workstation "COMPUTER", RandomSessionKey 0x55×16, Time 0,
 * ClientChallenge 0xaa×8, ServerChallenge 0123456789abcdef. §4.2.4: NTLMv2.
 */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const USER = 'User';
const DOMAIN = 'Domain';
const PASSWORD = 'Password';
const WORKSTATION = 'COMPUTER';
const RANDOM_SESSION_KEY = Buffer.alloc(16, 0x55);
const TIME = Buffer.alloc(8);
const CLIENT_CHALLENGE = Buffer.alloc(8, 0xaa);
const SERVER_CHALLENGE = hex('0123456789abcdef');

// §4.2.4: CHALLENGE_MESSAGE flags 0xe28a8233, target name "Server", AV pairs Domain + Server.
const CHALLENGE_FLAGS = 0xe28a8233;
const TARGET_INFO = hex('02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000');
const CHALLENGE_MESSAGE = hex(
  '4e544c4d53535000 02000000 0c000c0038000000 33828ae2 0123456789abcdef 0000000000000000 2400240044000000 060070170000000f' +
    '530065007200760065007200' +
    '02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000',
);
// §4.2.4.4: AUTHENTICATE_MESSAGE with flags 0xe2888235, version 5.1.2600 rev 15.
const AUTH_FLAGS = 0xe2888235;
const AUTHENTICATE_MESSAGE = hex(
  '4e544c4d53535000 03000000 180018006c000000 5400540084000000 0c000c0048000000 0800080054000000 100010005c000000 10001000d8000000 358288e2 0501280a0000000f' +
    '44006f006d00610069006e00' +
    '55007300650072' +
    '00' +
    '43004f004d0050005500540045005200' +
    '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa' +
    '68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000' +
    'c5dad2544fc9799094ce1ce90bc9d03e',
);

describe('MS-NLMP §4.2 test vectors', () => {
  it('NT hash of "Password" (§4.2.2.1.2)', () => {
    expect(ntHash(PASSWORD).toString('hex')).toBe('a4f49c406510bdcab6824ee7c30fd852');
    expect(ntHash(Buffer.from(PASSWORD, 'utf8')).toString('hex')).toBe('a4f49c406510bdcab6824ee7c30fd852');
  });

  it('NTOWFv2 (§4.2.4.1.1)', () => {
    expect(ntowfV2(PASSWORD, USER, DOMAIN).toString('hex')).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('LMv2 and NTLMv2 responses, NTProofStr, session base key and encrypted session key (§4.2.4.2)', () => {
    const key = ntowfV2(PASSWORD, USER, DOMAIN);
    const blob = ntlmV2ClientBlob(TIME, CLIENT_CHALLENGE, TARGET_INFO);
    const r = computeNtlmV2(key, SERVER_CHALLENGE, CLIENT_CHALLENGE, blob);
    expect(r.lmChallengeResponse.toString('hex')).toBe('86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
    expect(r.ntProofStr.toString('hex')).toBe('68cd0ab851e51c96aabc927bebef6a1c');
    expect(r.sessionBaseKey.toString('hex')).toBe('8de40ccadbc14a82f15cb0ad0de95ca3');
    expect(rc4(r.sessionBaseKey, RANDOM_SESSION_KEY).toString('hex')).toBe('c5dad2544fc9799094ce1ce90bc9d03e');
  });

  it('encodes the CHALLENGE_MESSAGE byte for byte (§4.2.4.3) and decodes it back', () => {
    const encoded = encodeChallenge({
      flags: CHALLENGE_FLAGS,
      targetName: 'Server',
      serverChallenge: SERVER_CHALLENGE,
      targetInfo: TARGET_INFO,
      version: { major: 6, minor: 0, build: 6000, revision: 15 },
    });
    expect(encoded.toString('hex')).toBe(CHALLENGE_MESSAGE.toString('hex'));
    const decoded = decodeChallenge(CHALLENGE_MESSAGE);
    expect(decoded.flags >>> 0).toBe(CHALLENGE_FLAGS);
    expect(decoded.targetName).toBe('Server');
    expect(decoded.serverChallenge).toEqual(SERVER_CHALLENGE);
    expect(decoded.version).toEqual({ major: 6, minor: 0, build: 6000, revision: 15 });
    const pairs = decodeAvPairs(decoded.targetInfo);
    expect(avString(pairs, AV_ID.NB_DOMAIN_NAME)).toBe('Domain');
    expect(avString(pairs, AV_ID.NB_COMPUTER_NAME)).toBe('Server');
  });

  it('builds the AUTHENTICATE_MESSAGE byte for byte (§4.2.4.4) with key exchange', () => {
    const message = buildAuthenticate({
      challenge: decodeChallenge(CHALLENGE_MESSAGE),
      credentials: { domain: DOMAIN, user: USER, password: PASSWORD },
      flags: AUTH_FLAGS,
      workstation: WORKSTATION,
      version: { major: 5, minor: 1, build: 2600, revision: 15 },
      clientChallenge: CLIENT_CHALLENGE,
      randomSessionKey: RANDOM_SESSION_KEY,
      time: TIME,
      negotiateBytes: Buffer.alloc(0),
      challengeBytes: CHALLENGE_MESSAGE,
    });
    expect(message.toString('hex')).toBe(AUTHENTICATE_MESSAGE.toString('hex'));
  });

  it('decodes the §4.2.4.4 AUTHENTICATE_MESSAGE (no MIC field: the challenge had no timestamp)', () => {
    const a = decodeAuthenticate(AUTHENTICATE_MESSAGE);
    expect(a.flags >>> 0).toBe(AUTH_FLAGS);
    expect([a.domain, a.user, a.workstation]).toEqual([DOMAIN, USER, WORKSTATION]);
    expect(a.encryptedRandomSessionKey.toString('hex')).toBe('c5dad2544fc9799094ce1ce90bc9d03e');
    expect(a.version).toEqual({ major: 5, minor: 1, build: 2600, revision: 15 });
    expect(a.mic).toBeNull();
  });

  it('the server verifier accepts the §4.2.4 exchange with the right password only', () => {
    const state = { negotiate: Buffer.alloc(0), challenge: CHALLENGE_MESSAGE, serverChallenge: SERVER_CHALLENGE, timestamp: null };
    expect(verifyAuthenticate(state, AUTHENTICATE_MESSAGE, () => ({ password: PASSWORD }))).toMatchObject({ ok: true, user: USER, domain: DOMAIN });
    expect(verifyAuthenticate(state, AUTHENTICATE_MESSAGE, () => ({ ntHash: hex('a4f49c406510bdcab6824ee7c30fd852') }))).toMatchObject({ ok: true });
    expect(verifyAuthenticate(state, AUTHENTICATE_MESSAGE, () => ({ password: 'password' }))).toMatchObject({ ok: false, reason: 'bad-proof' });
    expect(verifyAuthenticate(state, AUTHENTICATE_MESSAGE, () => undefined)).toMatchObject({ ok: false, reason: 'unknown-user' });
  });
});

describe('NTLM primitives', () => {
  it('RC4 matches the classic test vector', () => {
    expect(rc4(Buffer.from('Key'), Buffer.from('Plaintext')).toString('hex')).toBe('bbf316e8d940af0ad3');
  });

  it('converts UTF-8 to UTF-16LE like Node does, without a string', () => {
    for (const s of ['', 'Password', 'pässwörd', '密码', 'emoji 😀 ok']) {
      expect(utf8ToUtf16le(Buffer.from(s, 'utf8'))).toEqual(Buffer.from(s, 'utf16le'));
    }
    expect(utf8ToUtf16le(Buffer.from([0x61, 0xff, 0x62]))).toEqual(Buffer.from('a\ufffdb', 'utf16le'));
  });

  it('writes FILETIME little-endian and reads it back', () => {
    expect(fileTime(0).toString('hex')).toBe('00803ed5deb19d01'); // 1970-01-01 in FILETIME
    expect(fileTimeToMs(fileTime(1_700_000_000_123))).toBe(1_700_000_000_123);
  });

  it('NEGOTIATE carries the Version only when NTLMSSP_NEGOTIATE_VERSION is set, with payload offsets after it', () => {
    const v = { major: 6, minor: 1, build: 7601, revision: 15 };
    const withVersion = encodeNegotiate({ flags: NTLM_FLAGS.NEGOTIATE_UNICODE | NTLM_FLAGS.NEGOTIATE_VERSION, domain: '', workstation: '', version: v });
    expect(withVersion.length).toBe(40);
    expect(withVersion.subarray(32, 40).toString('hex')).toBe('0601b11d0000000f');
    expect(withVersion.readUInt32LE(20)).toBe(40);
    expect(decodeNegotiate(withVersion).version).toEqual(v);
    const without = encodeNegotiate({ flags: NTLM_FLAGS.NEGOTIATE_UNICODE, domain: '', workstation: '', version: v });
    expect(without.subarray(32, 40).toString('hex')).toBe('0000000000000000');
    const supplied = encodeNegotiate({
      flags: NTLM_FLAGS.NEGOTIATE_OEM_DOMAIN_SUPPLIED | NTLM_FLAGS.NEGOTIATE_OEM_WORKSTATION_SUPPLIED,
      domain: 'CONTOSO',
      workstation: 'PC1',
      version: null,
    });
    expect(decodeNegotiate(supplied)).toMatchObject({ domain: 'CONTOSO', workstation: 'PC1' });
  });
});
