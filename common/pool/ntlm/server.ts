import { randomBytes, timingSafeEqual } from 'node:crypto';
import { TetherError } from '../../errors';
import { fileTime, hmacMd5, ntowfV2, ntowfV2FromHash, rc4, wipe } from './crypto';
import { AV_ID, MSV_AV_FLAG_MIC_PRESENT, NTLM_FLAGS, hasFlag } from './flags';
import {
  DEFAULT_VERSION,
  NTLMV2_AV_OFFSET,
  avUtf16,
  decodeAuthenticate,
  decodeAvPairs,
  decodeNegotiate,
  encodeAvPairs,
  encodeChallenge,
  type NtlmVersion,
} from './messages';

/**
 * The server side of NTLMv2 (MS-NLMP §3.2), for the lab pool: it issues a CHALLENGE with target
 * information and a timestamp, and verifies an AUTHENTICATE against a stored password by
 * recomputing NTProofStr and, when the client says it sent one, the MIC — so the lab checks NTLM
 * for real rather than trusting it, and accepts what MS-NLMP allows (the MIC is a client SHOULD).
 */

export interface NtlmServerIdentity {
  /** NetBIOS domain, e.g. CONTOSO (also the TargetName). */
  readonly nbDomainName: string;
  /** NetBIOS computer name, e.g. POOL01. */
  readonly nbComputerName: string;
  readonly dnsDomainName: string;
  readonly dnsComputerName: string;
}

export interface NtlmServerOptions {
  readonly version?: NtlmVersion;
  readonly random?: (n: number) => Uint8Array;
  readonly now?: () => number;
}

/** What the server must remember between its CHALLENGE and the client's AUTHENTICATE. */
export interface NtlmChallengeState {
  readonly negotiate: Buffer;
  readonly challenge: Buffer;
  readonly serverChallenge: Buffer;
  /** The MsvAvTimestamp sent, or null when the CHALLENGE had none. */
  readonly timestamp: Buffer | null;
}

/** Answers a NEGOTIATE with a CHALLENGE (§3.2.5.1.1): flags chosen from the client's, AV pairs with a timestamp. */
export function createChallenge(negotiateBytes: Uint8Array, identity: NtlmServerIdentity, options: NtlmServerOptions = {}): { message: Buffer; state: NtlmChallengeState } {
  const neg = decodeNegotiate(negotiateBytes);
  const F = NTLM_FLAGS;
  const echo = [F.NEGOTIATE_SIGN, F.NEGOTIATE_SEAL, F.NEGOTIATE_ALWAYS_SIGN, F.NEGOTIATE_EXTENDED_SESSIONSECURITY, F.NEGOTIATE_VERSION, F.NEGOTIATE_128, F.NEGOTIATE_56, F.NEGOTIATE_KEY_EXCH, F.REQUEST_TARGET];
  let flags = F.NEGOTIATE_NTLM | F.NEGOTIATE_TARGET_INFO | F.TARGET_TYPE_DOMAIN;
  flags |= hasFlag(neg.flags, F.NEGOTIATE_UNICODE) ? F.NEGOTIATE_UNICODE : F.NEGOTIATE_OEM;
  for (const bit of echo) if (hasFlag(neg.flags, bit)) flags |= bit;
  flags >>>= 0;
  const random = options.random ?? ((n: number) => randomBytes(n));
  const serverChallenge = Buffer.from(random(8));
  const timestamp = fileTime((options.now ?? Date.now)());
  const targetInfo = encodeAvPairs([
    avUtf16(AV_ID.NB_DOMAIN_NAME, identity.nbDomainName),
    avUtf16(AV_ID.NB_COMPUTER_NAME, identity.nbComputerName),
    avUtf16(AV_ID.DNS_DOMAIN_NAME, identity.dnsDomainName),
    avUtf16(AV_ID.DNS_COMPUTER_NAME, identity.dnsComputerName),
    { id: AV_ID.TIMESTAMP, value: timestamp },
  ]);
  const message = encodeChallenge({ flags, targetName: identity.nbDomainName, serverChallenge, targetInfo, version: options.version ?? DEFAULT_VERSION });
  return { message, state: { negotiate: Buffer.from(negotiateBytes), challenge: message, serverChallenge, timestamp } };
}

/** A user's secret as the directory holds it: the password, or only its NT hash. */
export type NtlmSecret = { readonly password: string } | { readonly ntHash: Uint8Array };

export type NtlmVerification =
  | { readonly ok: true; readonly domain: string; readonly user: string; readonly workstation: string }
  | { readonly ok: false; readonly reason: NtlmRejectReason; readonly domain: string; readonly user: string };

export type NtlmRejectReason = 'anonymous' | 'ntlmv1' | 'unknown-user' | 'bad-proof' | 'timestamp-mismatch' | 'mic-missing' | 'bad-mic';

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies an AUTHENTICATE (§3.2.5.1.2). Malformed input throws NTLM_MALFORMED; a wrong password
 * or a bad MIC is a normal `{ ok: false }` answer (the lab turns it into a 401). The MIC is checked
 * exactly when the NTLMv2 response's MsvAvFlags has bit 0x2 ("MIC present"): a client SHOULD send
 * one after a timestamp (§3.1.5.1.2) but need not, and a server checks only what the flag announces.
 */
export function verifyAuthenticate(
  state: NtlmChallengeState,
  authenticateBytes: Uint8Array,
  lookup: (domain: string, user: string) => NtlmSecret | undefined,
): NtlmVerification {
  const auth = decodeAuthenticate(authenticateBytes);
  const who = { domain: auth.domain, user: auth.user };
  if (auth.user === '' && auth.ntChallengeResponse.length === 0) return { ok: false, reason: 'anonymous', ...who };
  if (auth.ntChallengeResponse.length <= 24) return { ok: false, reason: 'ntlmv1', ...who };
  if (auth.ntChallengeResponse.length < NTLMV2_AV_OFFSET + 4) throw new TetherError('NTLM_MALFORMED', 'NTLMv2 response is truncated.');
  const proof = auth.ntChallengeResponse.subarray(0, 16);
  const blob = auth.ntChallengeResponse.subarray(16);
  if (blob[0] !== 1 || blob[1] !== 1) throw new TetherError('NTLM_MALFORMED', 'NTLMv2 response has an unknown version.', { detail: { version: blob[0] ?? -1 } });
  const pairs = decodeAvPairs(auth.ntChallengeResponse.subarray(NTLMV2_AV_OFFSET));

  const secret = lookup(auth.domain, auth.user);
  if (secret === undefined) return { ok: false, reason: 'unknown-user', ...who };
  const key = 'password' in secret ? ntowfV2(secret.password, auth.user, auth.domain) : ntowfV2FromHash(secret.ntHash, auth.user, auth.domain);
  let sessionBaseKey: Buffer | undefined;
  let exported: Buffer | undefined;
  try {
    if (!equal(hmacMd5(key, state.serverChallenge, blob), proof)) return { ok: false, reason: 'bad-proof', ...who };
    // The timestamp we issued must come back inside the signed blob (it is covered by NTProofStr).
    if (state.timestamp !== null) {
      const echoed = pairs.find((p) => p.id === AV_ID.TIMESTAMP)?.value;
      if (echoed === undefined || !equal(echoed, state.timestamp)) return { ok: false, reason: 'timestamp-mismatch', ...who };
    }
    const avFlags = pairs.find((p) => p.id === AV_ID.FLAGS)?.value;
    const claimsMic = avFlags !== undefined && avFlags.length === 4 && (avFlags.readUInt32LE(0) & MSV_AV_FLAG_MIC_PRESENT) !== 0;
    if (!claimsMic) return { ok: true, ...who, workstation: auth.workstation };
    // Flag set but no room for the field (payload starts before offset 88): the claim is false.
    if (auth.mic === null || auth.micOffset === null) return { ok: false, reason: 'mic-missing', ...who };
    sessionBaseKey = hmacMd5(key, proof);
    const keyExch = hasFlag(auth.flags, NTLM_FLAGS.NEGOTIATE_KEY_EXCH) && auth.encryptedRandomSessionKey.length === 16;
    exported = keyExch ? rc4(sessionBaseKey, auth.encryptedRandomSessionKey) : Buffer.from(sessionBaseKey);
    const zeroed = Buffer.from(authenticateBytes);
    zeroed.fill(0, auth.micOffset, auth.micOffset + 16);
    if (!equal(hmacMd5(exported, state.negotiate, state.challenge, zeroed), auth.mic)) return { ok: false, reason: 'bad-mic', ...who };
    return { ok: true, ...who, workstation: auth.workstation };
  } finally {
    wipe(key, sessionBaseKey, exported);
  }
}
