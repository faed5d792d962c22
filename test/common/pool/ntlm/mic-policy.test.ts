import { describe, expect, it } from 'vitest';
import {
  AV_ID,
  MSV_AV_FLAG_MIC_PRESENT,
  NTLM_FLAGS,
  NtlmClient,
  NtlmHttpAcceptor,
  computeNtlmV2,
  createChallenge,
  decodeAuthenticate,
  decodeAvPairs,
  decodeChallenge,
  encodeAuthenticate,
  encodeAvPairs,
  ntlmV2ClientBlob,
  ntowfV2,
  verifyAuthenticate,
  type AvPair,
  type NtlmSecret,
} from '../../../../common/pool/ntlm';

/**
 * MS-NLMP makes the MIC a client SHOULD (§3.1.5.1.2) and has the server compare it only when the
 * AUTHENTICATE says one is there — MsvAvFlags bit 0x2 inside the signed NTLMv2 blob (§3.2.5.1.2).
 * These tests build the answer a MIC-less client sends (it echoes the server's AV pairs, timestamp
 * included, and leaves MsvAvFlags out) and check each branch of that rule.
 */

const IDENTITY = { nbDomainName: 'CONTOSO', nbComputerName: 'POOL01', dnsDomainName: 'contoso.test', dnsComputerName: 'pool01.contoso.test' };
const lookup = (domain: string, user: string): NtlmSecret | undefined =>
  domain.toUpperCase() === 'CONTOSO' && user.toLowerCase() === 'alice' ? { password: 'Secret-1' } : undefined;
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const FLAGS = NTLM_FLAGS.NEGOTIATE_UNICODE | NTLM_FLAGS.NEGOTIATE_NTLM | NTLM_FLAGS.NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLM_FLAGS.NEGOTIATE_TARGET_INFO;

/** An AUTHENTICATE built by hand: the server's AV pairs echoed (plus `extra`), MIC field reserved or not. */
function handBuilt(challengeBytes: Buffer, password: string, opts: { extra?: AvPair[]; withMic?: boolean } = {}): Buffer {
  const challenge = decodeChallenge(challengeBytes);
  const pairs = [...decodeAvPairs(challenge.targetInfo), ...(opts.extra ?? [])];
  const time = pairs.find((p) => p.id === AV_ID.TIMESTAMP)!.value;
  const clientChallenge = Buffer.alloc(8, 0xaa);
  const key = ntowfV2(password, 'alice', 'CONTOSO');
  const r = computeNtlmV2(key, challenge.serverChallenge, clientChallenge, ntlmV2ClientBlob(time, clientChallenge, encodeAvPairs(pairs)));
  return encodeAuthenticate({
    flags: FLAGS,
    lmChallengeResponse: Buffer.alloc(24),
    ntChallengeResponse: r.ntChallengeResponse,
    domain: 'CONTOSO',
    user: 'alice',
    workstation: 'DESK1',
    encryptedRandomSessionKey: Buffer.alloc(0),
    version: null,
    withMic: opts.withMic ?? false,
  });
}

const micFlag = (bits: number): AvPair => {
  const value = Buffer.alloc(4);
  value.writeUInt32LE(bits);
  return { id: AV_ID.FLAGS, value };
};

function challenge() {
  const negotiate = new NtlmClient({ domain: 'CONTOSO', user: 'alice', password: 'x' }).negotiate();
  return createChallenge(negotiate, IDENTITY, { now: () => NOW });
}

describe('MIC verified exactly when MsvAvFlags announces it', () => {
  it('accepts an AUTHENTICATE without MIC (no MsvAvFlags) after a timestamped CHALLENGE', () => {
    const { message, state } = challenge();
    const auth = handBuilt(message, 'Secret-1');
    expect(decodeAuthenticate(auth).mic).toBeNull();
    expect(verifyAuthenticate(state, auth, lookup)).toMatchObject({ ok: true, user: 'alice', domain: 'CONTOSO', workstation: 'DESK1' });
    // Without a MIC the password is still checked.
    expect(verifyAuthenticate(state, handBuilt(message, 'Secret-2'), lookup)).toMatchObject({ ok: false, reason: 'bad-proof' });
  });

  it('accepts MsvAvFlags without the MIC bit (e.g. only 0x1, constrained authentication)', () => {
    const { message, state } = challenge();
    expect(verifyAuthenticate(state, handBuilt(message, 'Secret-1', { extra: [micFlag(0x1)] }), lookup).ok).toBe(true);
  });

  it('rejects a MIC that is announced and present but wrong (here: left as zeros)', () => {
    const { message, state } = challenge();
    const auth = handBuilt(message, 'Secret-1', { extra: [micFlag(MSV_AV_FLAG_MIC_PRESENT)], withMic: true });
    expect(decodeAuthenticate(auth).mic).toEqual(Buffer.alloc(16));
    expect(verifyAuthenticate(state, auth, lookup)).toMatchObject({ ok: false, reason: 'bad-mic' });
  });

  it('rejects a MIC that is announced but has no field in the message', () => {
    const { message, state } = challenge();
    const auth = handBuilt(message, 'Secret-1', { extra: [micFlag(MSV_AV_FLAG_MIC_PRESENT)], withMic: false });
    expect(verifyAuthenticate(state, auth, lookup)).toMatchObject({ ok: false, reason: 'mic-missing' });
  });

  it('a MIC cannot be stripped in transit: clearing the flag breaks NTProofStr', () => {
    const client = new NtlmClient({ domain: 'CONTOSO', user: 'alice', password: 'Secret-1' }, { now: () => NOW });
    const { message, state } = createChallenge(client.negotiate(), IDENTITY, { now: () => NOW });
    const auth = Buffer.from(client.authenticate(message));
    expect(verifyAuthenticate(state, auth, lookup).ok).toBe(true);
    // MsvAvFlags inside the NT response: id 6, length 4, value with bit 0x2.
    const flagsAt = auth.indexOf(Buffer.from([AV_ID.FLAGS, 0, 4, 0]), auth.readUInt32LE(24));
    expect(flagsAt).toBeGreaterThan(0);
    expect(auth.readUInt32LE(flagsAt + 4) & MSV_AV_FLAG_MIC_PRESENT).toBe(MSV_AV_FLAG_MIC_PRESENT);
    auth.writeUInt32LE(0, flagsAt + 4);
    expect(verifyAuthenticate(state, auth, lookup)).toMatchObject({ ok: false, reason: 'bad-proof' });
  });

  it('the HTTP acceptor (the lab WebTicket service) lets a MIC-less client in and binds it to the connection', () => {
    const acceptor = new NtlmHttpAcceptor(IDENTITY, lookup, { now: () => NOW });
    const socket = {};
    const negotiate = new NtlmClient({ domain: 'CONTOSO', user: 'alice', password: 'x' }).negotiate();
    const first = acceptor.step(socket, `NTLM ${negotiate.toString('base64')}`);
    expect(first.kind).toBe('challenge');
    const challengeBytes = Buffer.from(first.kind === 'challenge' ? first.header.slice('NTLM '.length) : '', 'base64');
    const auth = handBuilt(challengeBytes, 'Secret-1');
    expect(acceptor.step(socket, `NTLM ${auth.toString('base64')}`)).toEqual({ kind: 'authenticated', domain: 'CONTOSO', user: 'alice' });
    expect(acceptor.step(socket, undefined)).toEqual({ kind: 'authenticated', domain: 'CONTOSO', user: 'alice' });
  });

  it('the HTTP acceptor refuses an announced MIC that is wrong', () => {
    const acceptor = new NtlmHttpAcceptor(IDENTITY, lookup, { now: () => NOW });
    const socket = {};
    const negotiate = new NtlmClient({ domain: 'CONTOSO', user: 'alice', password: 'x' }).negotiate();
    const first = acceptor.step(socket, `NTLM ${negotiate.toString('base64')}`);
    const challengeBytes = Buffer.from(first.kind === 'challenge' ? first.header.slice('NTLM '.length) : '', 'base64');
    const auth = handBuilt(challengeBytes, 'Secret-1', { extra: [micFlag(MSV_AV_FLAG_MIC_PRESENT)], withMic: true });
    expect(acceptor.step(socket, `NTLM ${auth.toString('base64')}`)).toMatchObject({ kind: 'rejected', reason: 'bad-mic', user: 'alice' });
  });
});
