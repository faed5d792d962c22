import { TetherError } from '../../errors';
import { AV_ID, NTLM_FLAGS, hasFlag } from './flags';

/**
 * NTLM message encoding and decoding, MS-NLMP §2.2: NEGOTIATE (type 1), CHALLENGE (type 2),
 * AUTHENTICATE (type 3), AV pairs and the VERSION structure. Every decoder checks lengths and
 * payload offsets and fails with NTLM_MALFORMED; nothing is read outside the buffer.
 */

export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

/** VERSION, MS-NLMP §2.2.2.10 (debugging only; NTLMRevisionCurrent is always 15). */
export interface NtlmVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
  readonly revision: number;
}

/** What we announce: Windows 6.1 build 7601 (the era of Lync 2010/2013), revision 15. */
export const DEFAULT_VERSION: NtlmVersion = { major: 6, minor: 1, build: 7601, revision: 15 };

export interface AvPair {
  readonly id: number;
  readonly value: Buffer;
}

export interface NegotiateMessage {
  readonly flags: number;
  readonly domain: string;
  readonly workstation: string;
  readonly version: NtlmVersion | null;
}

export interface ChallengeMessage {
  readonly flags: number;
  readonly targetName: string;
  readonly serverChallenge: Buffer;
  /** Raw TargetInfo bytes (AV pairs), kept as sent: the NTLMv2 response embeds them. */
  readonly targetInfo: Buffer;
  readonly version: NtlmVersion | null;
}

/** A decoded AUTHENTICATE: the fields it was built from (AuthenticateFields), and its MIC. */
export interface AuthenticateMessage extends Omit<AuthenticateFields, 'withMic'> {
  /** The 16-byte MIC, or null when the message has no MIC field. */
  readonly mic: Buffer | null;
  /** Offset of the MIC in the raw message (for recomputing it with the field zeroed). */
  readonly micOffset: number | null;
}

export function malformed(message: string, detail: Record<string, string | number> = {}): TetherError {
  return new TetherError('NTLM_MALFORMED', message, { detail });
}

// ---- primitives -------------------------------------------------------------------------------

function encodeString(value: string, unicode: boolean): Buffer {
  return unicode ? Buffer.from(value, 'utf16le') : Buffer.from(value, 'latin1');
}

function decodeString(bytes: Buffer, unicode: boolean, what: string): string {
  if (unicode && bytes.length % 2 !== 0) throw malformed(`${what} has an odd length for a Unicode string.`);
  return unicode ? bytes.toString('utf16le') : bytes.toString('latin1');
}

function writeVersion(out: Buffer, at: number, v: NtlmVersion | null): void {
  if (v === null) {
    out.fill(0, at, at + 8);
    return;
  }
  out.writeUInt8(v.major, at);
  out.writeUInt8(v.minor, at + 1);
  out.writeUInt16LE(v.build, at + 2);
  out.fill(0, at + 4, at + 7);
  out.writeUInt8(v.revision, at + 7);
}

/** The fields every message has: signature, type, flags, and VERSION when the flags ask for it (MS-NLMP 2.2.1). */
function writeCommonFields(out: Buffer, type: 1 | 2 | 3, flagsAt: number, versionAt: number, msg: { flags: number; version: NtlmVersion | null }): void {
  NTLMSSP_SIGNATURE.copy(out, 0);
  out.writeUInt32LE(type, 8);
  out.writeUInt32LE(msg.flags >>> 0, flagsAt);
  writeVersion(out, versionAt, hasFlag(msg.flags, NTLM_FLAGS.NEGOTIATE_VERSION) ? msg.version : null);
}

function readVersion(buf: Buffer, at: number): NtlmVersion {
  return { major: buf.readUInt8(at), minor: buf.readUInt8(at + 1), build: buf.readUInt16LE(at + 2), revision: buf.readUInt8(at + 7) };
}

/** Reads a security buffer (Len, MaxLen, Offset) and returns its payload, bounds-checked. */
function readField(buf: Buffer, at: number, what: string, payloadStart: number): Buffer {
  const len = buf.readUInt16LE(at);
  const offset = buf.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (offset < payloadStart || offset + len > buf.length) {
    throw malformed(`${what} points outside the message.`, { field: what, offset, length: len, size: buf.length });
  }
  return Buffer.from(buf.subarray(offset, offset + len));
}

function checkHeader(buf: Uint8Array, type: number, minLength: number, name: string): Buffer {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < minLength) throw malformed(`${name} message is truncated.`, { size: b.length, minimum: minLength });
  if (!b.subarray(0, 8).equals(NTLMSSP_SIGNATURE)) throw malformed(`${name} message lacks the NTLMSSP signature.`);
  const actual = b.readUInt32LE(8);
  if (actual !== type) throw malformed(`Expected an NTLM ${name} message (type ${type}), got type ${actual}.`, { type: actual });
  return b;
}

/** Lays out header + payload fields in order, writing each security buffer's Len/MaxLen/Offset. */
function layout(headerSize: number, fields: { at: number; data: Buffer }[]): Buffer {
  const total = headerSize + fields.reduce((n, f) => n + f.data.length, 0);
  const out = Buffer.alloc(total);
  let offset = headerSize;
  for (const f of fields) {
    out.writeUInt16LE(f.data.length, f.at);
    out.writeUInt16LE(f.data.length, f.at + 2);
    out.writeUInt32LE(offset, f.at + 4);
    f.data.copy(out, offset);
    offset += f.data.length;
  }
  return out;
}

// ---- AV pairs ---------------------------------------------------------------------------------

export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of pairs) {
    if (p.id === AV_ID.EOL) continue;
    const head = Buffer.alloc(4);
    head.writeUInt16LE(p.id, 0);
    head.writeUInt16LE(p.value.length, 2);
    parts.push(head, p.value);
  }
  parts.push(Buffer.alloc(4)); // MsvAvEOL
  return Buffer.concat(parts);
}

/** Decodes AV pairs up to MsvAvEOL; a list without EOL or running past the end is malformed. */
export function decodeAvPairs(bytes: Buffer): AvPair[] {
  const pairs: AvPair[] = [];
  let at = 0;
  for (;;) {
    if (at + 4 > bytes.length) throw malformed('Target information ends without MsvAvEOL.');
    const id = bytes.readUInt16LE(at);
    const len = bytes.readUInt16LE(at + 2);
    if (id === AV_ID.EOL) return pairs;
    if (at + 4 + len > bytes.length) throw malformed('An AV pair runs past the end of the target information.', { avId: id });
    pairs.push({ id, value: Buffer.from(bytes.subarray(at + 4, at + 4 + len)) });
    at += 4 + len;
  }
}

export function avString(pairs: readonly AvPair[], id: number): string | undefined {
  const p = pairs.find((x) => x.id === id);
  return p === undefined ? undefined : p.value.toString('utf16le');
}

export function avUtf16(id: number, value: string): AvPair {
  return { id, value: Buffer.from(value, 'utf16le') };
}

// ---- NEGOTIATE (§2.2.1.1) ---------------------------------------------------------------------

export function encodeNegotiate(msg: NegotiateMessage): Buffer {
  // Domain and workstation are OEM strings here, and only sent with their *_SUPPLIED flags.
  const domain = hasFlag(msg.flags, NTLM_FLAGS.NEGOTIATE_OEM_DOMAIN_SUPPLIED) ? Buffer.from(msg.domain, 'latin1') : Buffer.alloc(0);
  const workstation = hasFlag(msg.flags, NTLM_FLAGS.NEGOTIATE_OEM_WORKSTATION_SUPPLIED) ? Buffer.from(msg.workstation, 'latin1') : Buffer.alloc(0);
  const out = layout(40, [
    { at: 16, data: domain },
    { at: 24, data: workstation },
  ]);
  writeCommonFields(out, 1, 12, 32, msg);
  return out;
}

export function decodeNegotiate(bytes: Uint8Array): NegotiateMessage {
  const b = checkHeader(bytes, 1, 16, 'NEGOTIATE');
  const flags = b.readUInt32LE(12);
  if (b.length < 32) return { flags, domain: '', workstation: '', version: null };
  const hasVersion = b.length >= 40 && hasFlag(flags, NTLM_FLAGS.NEGOTIATE_VERSION);
  const payloadStart = hasVersion ? 40 : 32;
  return {
    flags,
    domain: readField(b, 16, 'DomainNameFields', payloadStart).toString('latin1'),
    workstation: readField(b, 24, 'WorkstationFields', payloadStart).toString('latin1'),
    version: hasVersion ? readVersion(b, 32) : null,
  };
}

// ---- CHALLENGE (§2.2.1.2) ---------------------------------------------------------------------

export function encodeChallenge(msg: ChallengeMessage): Buffer {
  if (msg.serverChallenge.length !== 8) throw malformed('ServerChallenge must be 8 bytes.');
  const unicode = hasFlag(msg.flags, NTLM_FLAGS.NEGOTIATE_UNICODE);
  const out = layout(56, [
    { at: 12, data: encodeString(msg.targetName, unicode) },
    { at: 40, data: hasFlag(msg.flags, NTLM_FLAGS.NEGOTIATE_TARGET_INFO) ? msg.targetInfo : Buffer.alloc(0) },
  ]);
  writeCommonFields(out, 2, 20, 48, msg);
  msg.serverChallenge.copy(out, 24);
  return out;
}

export function decodeChallenge(bytes: Uint8Array): ChallengeMessage {
  const b = checkHeader(bytes, 2, 48, 'CHALLENGE');
  const flags = b.readUInt32LE(20);
  const hasVersion = b.length >= 56 && hasFlag(flags, NTLM_FLAGS.NEGOTIATE_VERSION);
  const payloadStart = hasVersion ? 56 : 48;
  const unicode = hasFlag(flags, NTLM_FLAGS.NEGOTIATE_UNICODE);
  const targetInfo = readField(b, 40, 'TargetInfoFields', payloadStart);
  if (targetInfo.length > 0) decodeAvPairs(targetInfo); // validate now, not halfway through the response
  return {
    flags,
    targetName: decodeString(readField(b, 12, 'TargetNameFields', payloadStart), unicode, 'TargetName'),
    serverChallenge: Buffer.from(b.subarray(24, 32)),
    targetInfo,
    version: hasVersion ? readVersion(b, 48) : null,
  };
}

// ---- AUTHENTICATE (§2.2.1.3) ------------------------------------------------------------------

export interface AuthenticateFields {
  readonly flags: number;
  readonly lmChallengeResponse: Buffer;
  readonly ntChallengeResponse: Buffer;
  readonly domain: string;
  readonly user: string;
  readonly workstation: string;
  readonly encryptedRandomSessionKey: Buffer;
  readonly version: NtlmVersion | null;
  /** Reserve the 16-byte MIC field (filled with zeros; the caller computes and patches it). */
  readonly withMic: boolean;
}

export const MIC_OFFSET = 72;

export function encodeAuthenticate(msg: AuthenticateFields): Buffer {
  const unicode = hasFlag(msg.flags, NTLM_FLAGS.NEGOTIATE_UNICODE);
  const header = msg.withMic ? MIC_OFFSET + 16 : MIC_OFFSET;
  // Payload order as Windows writes it (and MS-NLMP §4.2.4.4 shows): domain, user, workstation,
  // LM response, NT response, session key.
  const out = layout(header, [
    { at: 28, data: encodeString(msg.domain, unicode) },
    { at: 36, data: encodeString(msg.user, unicode) },
    { at: 44, data: encodeString(msg.workstation, unicode) },
    { at: 12, data: msg.lmChallengeResponse },
    { at: 20, data: msg.ntChallengeResponse },
    { at: 52, data: msg.encryptedRandomSessionKey },
  ]);
  writeCommonFields(out, 3, 60, 64, msg);
  return out;
}

/**
 * Decodes an AUTHENTICATE message. The MIC field exists only when the payload starts at or after
 * 88 and the NTLMv2 response's MsvAvFlags says a MIC is present (older clients have no field).
 */
export function decodeAuthenticate(bytes: Uint8Array): AuthenticateMessage {
  const b = checkHeader(bytes, 3, 64, 'AUTHENTICATE');
  const flags = b.readUInt32LE(60);
  const offsets = [12, 20, 28, 36, 44, 52]
    .filter((at) => b.readUInt16LE(at) > 0)
    .map((at) => b.readUInt32LE(at + 4));
  const payloadStart = offsets.length === 0 ? b.length : Math.min(...offsets);
  if (payloadStart < 64) throw malformed('AUTHENTICATE payload overlaps its header.', { offset: payloadStart });
  const unicode = hasFlag(flags, NTLM_FLAGS.NEGOTIATE_UNICODE);
  const ntChallengeResponse = readField(b, 20, 'NtChallengeResponseFields', 64);
  let mic: Buffer | null = null;
  let micOffset: number | null = null;
  if (payloadStart >= MIC_OFFSET + 16 && ntChallengeResponse.length > 24 && ntlmV2ClaimsMic(ntChallengeResponse)) {
    mic = Buffer.from(b.subarray(MIC_OFFSET, MIC_OFFSET + 16));
    micOffset = MIC_OFFSET;
  }
  return {
    flags,
    lmChallengeResponse: readField(b, 12, 'LmChallengeResponseFields', 64),
    ntChallengeResponse,
    domain: decodeString(readField(b, 28, 'DomainNameFields', 64), unicode, 'DomainName'),
    user: decodeString(readField(b, 36, 'UserNameFields', 64), unicode, 'UserName'),
    workstation: decodeString(readField(b, 44, 'WorkstationFields', 64), unicode, 'Workstation'),
    encryptedRandomSessionKey: readField(b, 52, 'EncryptedRandomSessionKeyFields', 64),
    version: payloadStart >= 72 && hasFlag(flags, NTLM_FLAGS.NEGOTIATE_VERSION) ? readVersion(b, 64) : null,
    mic,
    micOffset,
  };
}

/** NTLMv2_CLIENT_CHALLENGE layout (§2.2.2.7): the AV pairs start 28 bytes in, after NTProofStr. */
export const NTLMV2_AV_OFFSET = 16 + 28;

function ntlmV2ClaimsMic(nt: Buffer): boolean {
  if (nt.length < NTLMV2_AV_OFFSET + 4) return false;
  try {
    const pairs = decodeAvPairs(nt.subarray(NTLMV2_AV_OFFSET));
    const f = pairs.find((p) => p.id === AV_ID.FLAGS);
    return f !== undefined && f.value.length === 4 && (f.value.readUInt32LE(0) & 0x2) !== 0;
  } catch {
    return false;
  }
}
