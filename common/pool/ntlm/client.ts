import { randomBytes } from 'node:crypto';
import { TetherError } from '../../errors';
import { computeNtlmV2, fileTime, hmacMd5, ntlmV2ClientBlob, ntowfV2, rc4, wipe } from './crypto';
import { AV_ID, MSV_AV_FLAG_MIC_PRESENT, NTLM_FLAGS, hasFlag } from './flags';
import {
  DEFAULT_VERSION,
  MIC_OFFSET,
  avUtf16,
  decodeAvPairs,
  decodeChallenge,
  encodeAuthenticate,
  encodeAvPairs,
  encodeNegotiate,
  type AvPair,
  type ChallengeMessage,
  type NtlmVersion,
} from './messages';

/**
 * The client side of NTLMv2 (MS-NLMP §3.1): NEGOTIATE, then AUTHENTICATE from the server's
 * CHALLENGE. Only NTLMv2 is ever computed (no LM, no NTLMv1). Secrets (the NT hash, response
 * key, session keys) live in Buffers that are wiped as soon as the message is built.
 */

export interface NtlmCredentials {
  /** NetBIOS (or DNS) domain, e.g. CONTOSO. */
  readonly domain: string;
  readonly user: string;
  /** The password, as a string or as UTF-8 bytes (the caller wipes those). */
  readonly password: string | Uint8Array;
}

/** What Tether asks for: Unicode, NTLM with extended session security, 128-bit, key exchange, version. */
export const DEFAULT_CLIENT_FLAGS =
  (NTLM_FLAGS.NEGOTIATE_UNICODE |
    NTLM_FLAGS.NEGOTIATE_OEM |
    NTLM_FLAGS.REQUEST_TARGET |
    NTLM_FLAGS.NEGOTIATE_SIGN |
    NTLM_FLAGS.NEGOTIATE_NTLM |
    NTLM_FLAGS.NEGOTIATE_ALWAYS_SIGN |
    NTLM_FLAGS.NEGOTIATE_EXTENDED_SESSIONSECURITY |
    NTLM_FLAGS.NEGOTIATE_TARGET_INFO |
    NTLM_FLAGS.NEGOTIATE_VERSION |
    NTLM_FLAGS.NEGOTIATE_128 |
    NTLM_FLAGS.NEGOTIATE_KEY_EXCH |
    NTLM_FLAGS.NEGOTIATE_56) >>>
  0;

export interface AuthenticateInputs {
  readonly challenge: ChallengeMessage;
  readonly credentials: NtlmCredentials;
  /** NegotiateFlags for the AUTHENTICATE message. */
  readonly flags: number;
  readonly workstation: string;
  readonly version: NtlmVersion;
  /** 8 random bytes. */
  readonly clientChallenge: Uint8Array;
  /** 16 random bytes, used only when key exchange is negotiated. */
  readonly randomSessionKey: Uint8Array;
  /** FILETIME to use when the server sent no MsvAvTimestamp. */
  readonly time: Uint8Array;
  /** The raw NEGOTIATE and CHALLENGE messages, for the MIC. */
  readonly negotiateBytes: Uint8Array;
  readonly challengeBytes: Uint8Array;
  /** SPN for MsvAvTargetName (e.g. HTTP/pool01.contoso.com), added when the server sends a timestamp. */
  readonly spn?: string;
}

/**
 * Builds the AUTHENTICATE message (MS-NLMP §3.1.5.1.2). When the CHALLENGE carries
 * MsvAvTimestamp, the client uses that time, sets MsvAvFlags' MIC bit, sends Z(24) as the LM
 * response and fills the MIC over all three messages; otherwise the AV pairs go back unchanged.
 */
export function buildAuthenticate(input: AuthenticateInputs): Buffer {
  const { challenge, credentials } = input;
  const serverPairs = challenge.targetInfo.length > 0 ? decodeAvPairs(challenge.targetInfo) : [];
  const timestamp = serverPairs.find((p) => p.id === AV_ID.TIMESTAMP);
  let avBytes: Buffer;
  let time: Uint8Array;
  if (timestamp) {
    if (timestamp.value.length !== 8) throw new TetherError('NTLM_MALFORMED', 'MsvAvTimestamp is not 8 bytes.');
    time = timestamp.value;
    const pairs: AvPair[] = serverPairs.filter((p) => p.id !== AV_ID.FLAGS);
    const oldFlags = serverPairs.find((p) => p.id === AV_ID.FLAGS)?.value;
    const flagValue = Buffer.alloc(4);
    flagValue.writeUInt32LE(((oldFlags && oldFlags.length === 4 ? oldFlags.readUInt32LE(0) : 0) | MSV_AV_FLAG_MIC_PRESENT) >>> 0);
    pairs.push({ id: AV_ID.FLAGS, value: flagValue });
    if (input.spn !== undefined && !pairs.some((p) => p.id === AV_ID.TARGET_NAME)) pairs.push(avUtf16(AV_ID.TARGET_NAME, input.spn));
    avBytes = encodeAvPairs(pairs);
  } else {
    time = input.time;
    avBytes = challenge.targetInfo.length > 0 ? challenge.targetInfo : encodeAvPairs([]);
  }

  const responseKeyNT = ntowfV2(credentials.password, credentials.user, credentials.domain);
  const blob = ntlmV2ClientBlob(time, input.clientChallenge, avBytes);
  const r = computeNtlmV2(responseKeyNT, challenge.serverChallenge, input.clientChallenge, blob);
  wipe(responseKeyNT);
  // KXKEY for NTLMv2 is the SessionBaseKey (§3.4.5.1).
  const keyExchangeKey = r.sessionBaseKey;
  const keyExch = hasFlag(input.flags, NTLM_FLAGS.NEGOTIATE_KEY_EXCH);
  const exportedSessionKey = keyExch ? Buffer.from(input.randomSessionKey) : Buffer.from(keyExchangeKey);
  try {
    const encryptedRandomSessionKey = keyExch ? rc4(keyExchangeKey, input.randomSessionKey) : Buffer.alloc(0);
    const message = encodeAuthenticate({
      flags: input.flags,
      lmChallengeResponse: timestamp ? Buffer.alloc(24) : r.lmChallengeResponse,
      ntChallengeResponse: r.ntChallengeResponse,
      domain: credentials.domain,
      user: credentials.user,
      workstation: input.workstation,
      encryptedRandomSessionKey,
      version: input.version,
      withMic: timestamp !== undefined,
    });
    if (timestamp) hmacMd5(exportedSessionKey, input.negotiateBytes, input.challengeBytes, message).copy(message, MIC_OFFSET);
    return message;
  } finally {
    // Also when encoding fails (e.g. a name too long for the message): no key outlives the call.
    wipe(r.sessionBaseKey, r.lmChallengeResponse, r.ntChallengeResponse, r.ntProofStr, exportedSessionKey);
  }
}

export interface NtlmClientOptions {
  readonly workstation?: string;
  readonly version?: NtlmVersion;
  readonly flags?: number;
  /** SPN sent as MsvAvTargetName, e.g. HTTP/pool01.contoso.com. */
  readonly spn?: string;
  /** Randomness and clock, injectable for tests. */
  readonly random?: (n: number) => Uint8Array;
  readonly now?: () => number;
}

/** One NTLM handshake: call negotiate(), then authenticate() with the server's CHALLENGE. */
export class NtlmClient {
  private negotiateBytes: Buffer | null = null;
  private used = false;
  private readonly flags: number;

  constructor(
    private readonly credentials: NtlmCredentials,
    private readonly options: NtlmClientOptions = {},
  ) {
    this.flags = (options.flags ?? DEFAULT_CLIENT_FLAGS) >>> 0;
  }

  negotiate(): Buffer {
    this.negotiateBytes = encodeNegotiate({ flags: this.flags, domain: '', workstation: '', version: this.options.version ?? DEFAULT_VERSION });
    return Buffer.from(this.negotiateBytes);
  }

  authenticate(challengeBytes: Uint8Array): Buffer {
    if (this.negotiateBytes === null || this.used) throw new TetherError('INTERNAL', 'NtlmClient.authenticate() needs one negotiate() first.');
    this.used = true;
    const challenge = decodeChallenge(challengeBytes);
    if (!hasFlag(challenge.flags, NTLM_FLAGS.NEGOTIATE_UNICODE)) {
      throw new TetherError('NTLM_UNSUPPORTED', 'The server did not accept Unicode NTLM.', { detail: { flags: challenge.flags } });
    }
    if (!hasFlag(challenge.flags, NTLM_FLAGS.NEGOTIATE_NTLM)) {
      throw new TetherError('NTLM_UNSUPPORTED', 'The server did not accept NTLM session security.', { detail: { flags: challenge.flags } });
    }
    // The AUTHENTICATE flags are what both sides agreed on: the server's choice within ours.
    let flags = (challenge.flags & this.flags) >>> 0;
    flags = (flags & ~NTLM_FLAGS.NEGOTIATE_OEM) >>> 0;
    const random = this.options.random ?? ((n: number) => randomBytes(n));
    const clientChallenge = Buffer.from(random(8));
    const randomSessionKey = Buffer.from(random(16));
    try {
      return buildAuthenticate({
        challenge,
        credentials: this.credentials,
        flags,
        workstation: this.options.workstation ?? '',
        version: this.options.version ?? DEFAULT_VERSION,
        clientChallenge,
        randomSessionKey,
        time: fileTime((this.options.now ?? Date.now)()),
        negotiateBytes: this.negotiateBytes,
        challengeBytes,
        ...(this.options.spn === undefined ? {} : { spn: this.options.spn }),
      });
    } finally {
      wipe(randomSessionKey);
    }
  }
}
