import { createHmac } from 'node:crypto';
import md4 from 'js-md4';

/**
 * NTLMv2 cryptography, MS-NLMP §3.3.2 and §3.4.5. MD4 comes from js-md4 and RC4 is written here,
 * because Node's OpenSSL 3 disables both (legacy provider).
 */

export function hmacMd5(key: Uint8Array, ...data: Uint8Array[]): Buffer {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** RC4 (ARCFOUR) of `data` under `key`; used once per handshake for the session key exchange. */
export function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  let j = 0;
  for (let i = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = Buffer.alloc(data.length);
  let i = 0;
  j = 0;
  for (let n = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  s.fill(0);
  return out;
}

/**
 * UTF-8 bytes → UTF-16LE bytes without an intermediate JS string, so a password held in a Buffer
 * never becomes an immutable string that cannot be wiped. Invalid UTF-8 becomes U+FFFD.
 */
export function utf8ToUtf16le(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(bytes.length * 2 + 2);
  let o = 0;
  const put = (unit: number): void => {
    out[o++] = unit & 0xff;
    out[o++] = unit >> 8;
  };
  for (let i = 0; i < bytes.length; ) {
    const b0 = bytes[i]!;
    const need = b0 < 0x80 ? 0 : b0 >= 0xc2 && b0 < 0xe0 ? 1 : b0 >= 0xe0 && b0 < 0xf0 ? 2 : b0 >= 0xf0 && b0 < 0xf5 ? 3 : -1;
    let cp = need === 0 ? b0 : need === 1 ? b0 & 0x1f : need === 2 ? b0 & 0x0f : b0 & 0x07;
    let ok = need >= 0 && i + need < bytes.length;
    for (let k = 1; ok && k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    const min = [0, 0x80, 0x800, 0x10000][need] ?? 0;
    if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      put(0xfffd);
      i += 1;
      continue;
    }
    if (cp >= 0x10000) {
      put(0xd800 + ((cp - 0x10000) >> 10));
      put(0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else put(cp);
    i += need + 1;
  }
  const result = Buffer.from(out.subarray(0, o));
  out.fill(0);
  return result;
}

/** MD4(UTF-16LE(password)): the NT hash. A password given as UTF-8 bytes is left for the caller to wipe. */
export function ntHash(password: string | Uint8Array): Buffer {
  const unicode = typeof password === 'string' ? Buffer.from(password, 'utf16le') : utf8ToUtf16le(password);
  try {
    return Buffer.from(md4.arrayBuffer(unicode));
  } finally {
    unicode.fill(0);
  }
}

/**
 * NTOWFv2(Passwd, User, UserDom) = HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(Uppercase(User) ‖ UserDom)),
 * MS-NLMP §3.3.2. The NT hash is wiped once used.
 */
export function ntowfV2(password: string | Uint8Array, user: string, domain: string): Buffer {
  const hash = ntHash(password);
  try {
    return ntowfV2FromHash(hash, user, domain);
  } finally {
    hash.fill(0);
  }
}

/** NTOWFv2 from a stored NT hash (what a directory keeps instead of the password). */
export function ntowfV2FromHash(hash: Uint8Array, user: string, domain: string): Buffer {
  return hmacMd5(hash, Buffer.from(user.toUpperCase() + domain, 'utf16le'));
}

/** A Windows FILETIME (100 ns ticks since 1601-01-01) as 8 little-endian bytes. */
export function fileTime(ms: number): Buffer {
  const ticks = (BigInt(Math.round(ms)) + 11_644_473_600_000n) * 10_000n;
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(ticks);
  return out;
}

export function fileTimeToMs(bytes: Uint8Array): number {
  const ticks = Buffer.from(bytes).readBigUInt64LE(0);
  return Number(ticks / 10_000n - 11_644_473_600_000n);
}

/** The NTLMv2_CLIENT_CHALLENGE ("temp"), §3.3.2: version 1/1, time, client challenge, AV pairs. */
export function ntlmV2ClientBlob(time: Uint8Array, clientChallenge: Uint8Array, avPairs: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), time, clientChallenge, Buffer.alloc(4), avPairs, Buffer.alloc(4)]);
}

export interface NtlmV2Responses {
  readonly ntProofStr: Buffer;
  readonly ntChallengeResponse: Buffer;
  readonly lmChallengeResponse: Buffer;
  readonly sessionBaseKey: Buffer;
}

/** ComputeResponse for NTLMv2 (§3.3.2): NTProofStr, NT and LM responses and SessionBaseKey. */
export function computeNtlmV2(responseKeyNT: Uint8Array, serverChallenge: Uint8Array, clientChallenge: Uint8Array, blob: Uint8Array): NtlmV2Responses {
  const ntProofStr = hmacMd5(responseKeyNT, serverChallenge, blob);
  return {
    ntProofStr,
    ntChallengeResponse: Buffer.concat([ntProofStr, blob]),
    // ResponseKeyLM = ResponseKeyNT for NTLMv2 (NTOWFv2 and LMOWFv2 are the same function).
    lmChallengeResponse: Buffer.concat([hmacMd5(responseKeyNT, serverChallenge, clientChallenge), clientChallenge]),
    sessionBaseKey: hmacMd5(responseKeyNT, ntProofStr),
  };
}

/** Zeroes every buffer given (secrets: keys, hashes, password bytes). */
export function wipe(...buffers: (Uint8Array | null | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}
