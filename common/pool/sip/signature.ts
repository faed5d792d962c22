import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseNameAddr } from './fields';
import { header, type SipMessage } from './message';

/**
 * MS-SIPAE message signatures (§3.2.5.2 for what the server signs, §3.3.5.2 for the client): a
 * buffer of fields, each in angle brackets and exactly as they appear in the message, signed
 * with the security association's key. Version 3 and later add the To URI and the
 * P-Asserted-Identity URIs to version 2's list; SIPE builds the same buffer (sipe-sign.c).
 * TLS-DSK signs with HMAC (SHA-1 for the suites we negotiate) and writes the result in hex.
 */

export interface SignatureParams {
  /** `TLS-DSK` (or `NTLM`, `Kerberos`). */
  readonly protocol: string;
  /** crand (client) or srand (server). */
  readonly rand: string;
  /** cnum (client) or snum (server). */
  readonly num: string;
  readonly realm: string;
  readonly targetname: string;
}

function angleUri(value: string | undefined): string {
  if (value === undefined) return '';
  try {
    return parseNameAddr(value, 'From').uri;
  } catch {
    return '';
  }
}

function tagOf(value: string | undefined): string {
  if (value === undefined) return '';
  try {
    return parseNameAddr(value, 'From').params.tag ?? '';
  } catch {
    return '';
  }
}

/** The P-Asserted-Identity (or P-Preferred-Identity) `sip:` and `tel:` URIs, '' when absent. */
function assertedIdentity(msg: SipMessage): { sip: string; tel: string } {
  const value = header(msg, 'P-Asserted-Identity') ?? header(msg, 'P-Preferred-Identity') ?? '';
  const uris = [...value.matchAll(/<([^>]*)>/g)].map((m) => m[1]!);
  return { sip: uris.find((u) => /^sips?:/i.test(u)) ?? '', tel: uris.find((u) => /^tel:/i.test(u)) ?? '' };
}

/** The signature buffer of `msg` for an SA of `version` (MS-SIPAE §3.2.5.2 / §3.3.5.2). */
export function signatureBuffer(msg: SipMessage, params: SignatureParams, version: number): string {
  const cseq = (header(msg, 'CSeq') ?? '').trim().split(/\s+/);
  const from = header(msg, 'From');
  const to = header(msg, 'To');
  const fields = [params.protocol, params.rand, params.num, params.realm, params.targetname, header(msg, 'Call-ID') ?? '', cseq[0] ?? '', cseq[1] ?? '', angleUri(from), tagOf(from)];
  if (version >= 3) {
    const pai = assertedIdentity(msg);
    fields.push(angleUri(to), tagOf(to), pai.sip, pai.tel);
  } else {
    fields.push(tagOf(to));
  }
  fields.push(header(msg, 'Expires') ?? '');
  if (msg.kind === 'response') fields.push(String(msg.status));
  return fields.map((f) => `<${f}>`).join('');
}

export function signBuffer(algorithm: 'sha1' | 'md5', key: Uint8Array, buffer: string): string {
  return createHmac(algorithm, key).update(buffer, 'utf8').digest('hex');
}

/** Constant-time check of a hex signature (case-insensitive, as servers differ in case). */
export function signatureMatches(algorithm: 'sha1' | 'md5', key: Uint8Array, buffer: string, hex: string): boolean {
  const want = Buffer.from(signBuffer(algorithm, key, buffer), 'hex');
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length !== want.length * 2) return false;
  return timingSafeEqual(want, Buffer.from(hex, 'hex'));
}
