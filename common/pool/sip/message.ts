/**
 * SIP messages (RFC 3261 §7) as plain values, shared by the Tether registrar client and the lab's
 * registrar. Headers keep their order and their spelling; lookups are case-insensitive and know
 * the compact forms (RFC 3261 §7.3.3), so `i` and `Call-ID` are the same header.
 */

export interface SipHeader {
  readonly name: string;
  readonly value: string;
}

interface SipMessageBase {
  readonly headers: readonly SipHeader[];
  readonly body: Uint8Array;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;

export const SIP_VERSION = 'SIP/2.0';

const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
};

/** The long, lower-cased form of a header name (compact forms expanded). */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT[lower] ?? lower;
}

/** First value of header `name` (any case, compact form or long), or undefined. */
export function header(msg: SipMessageBase, name: string): string | undefined {
  const want = canonicalHeaderName(name);
  return msg.headers.find((h) => canonicalHeaderName(h.name) === want)?.value;
}

/** Every value of header `name`, in order. */
export function headers(msg: SipMessageBase, name: string): string[] {
  const want = canonicalHeaderName(name);
  return msg.headers.filter((h) => canonicalHeaderName(h.name) === want).map((h) => h.value);
}

/** The body as UTF-8 text. */
export function bodyText(msg: SipMessageBase): string {
  return new TextDecoder('utf-8').decode(msg.body);
}
