import { TetherError } from '../../errors';
import { canonicalHeaderName, SIP_VERSION, type SipHeader, type SipMessage } from './message';

/**
 * A strict SIP message codec for stream transports (TLS/TCP): every message needs Content-Length,
 * lines end in CRLF, and sizes are bounded so a hostile or confused peer cannot make us buffer
 * without limit. Every failure is a typed SIP_MESSAGE_MALFORMED or SIP_MESSAGE_TOO_LARGE error
 * whose `detail.reason` names what was wrong.
 */

export interface SipLimits {
  /** Start line plus headers plus the blank line, in bytes. */
  readonly maxHeaderBytes: number;
  readonly maxHeaders: number;
  readonly maxBodyBytes: number;
}

/** Generous for REGISTER and its answer (a few KiB with the provisioning body). */
export const DEFAULT_SIP_LIMITS: SipLimits = { maxHeaderBytes: 16 * 1024, maxHeaders: 100, maxBodyBytes: 64 * 1024 };

// RFC 3261 token characters, for methods and header names.
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const REQUEST_URI = /^[A-Za-z][A-Za-z0-9+\-.]*:[^\s]+$/;
// Header values: visible characters, spaces, tabs and UTF-8 text; no other control characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BAD_VALUE_CHAR = /[\u0000-\u0008\u000A-\u001F\u007F]/;

function malformed(reason: string, message: string, detail: Record<string, string | number> = {}): TetherError {
  return new TetherError('SIP_MESSAGE_MALFORMED', message, { detail: { reason, ...detail } });
}

function tooLarge(reason: string, message: string, detail: Record<string, string | number>): TetherError {
  return new TetherError('SIP_MESSAGE_TOO_LARGE', message, { detail: { reason, ...detail } });
}

const CRLFCRLF = [13, 10, 13, 10];

/** Index of the first CRLFCRLF in `buf` at or after `from`, or -1. */
function findHeaderEnd(buf: Uint8Array, from: number): number {
  outer: for (let i = Math.max(0, from); i + 3 < buf.length; i++) {
    for (let j = 0; j < 4; j++) if (buf[i + j] !== CRLFCRLF[j]) continue outer;
    return i;
  }
  return -1;
}

type StartLine = { kind: 'request'; method: string; uri: string } | { kind: 'response'; status: number; reason: string };

interface ParsedHead {
  readonly start: StartLine;
  readonly headers: SipHeader[];
  readonly contentLength: number;
}

function parseStartLine(line: string): StartLine {
  if (line.startsWith(`${SIP_VERSION} `)) {
    const m = /^SIP\/2\.0 ([1-6][0-9]{2}) (.*)$/.exec(line);
    if (!m) throw malformed('bad-status-line', `Not a SIP status line: '${line.slice(0, 80)}'.`);
    if (BAD_VALUE_CHAR.test(m[2]!)) throw malformed('bad-status-line', 'The SIP reason phrase holds control characters.');
    return { kind: 'response', status: Number(m[1]), reason: m[2]! };
  }
  const parts = line.split(' ');
  if (parts.length !== 3) throw malformed('bad-request-line', `Not a SIP request line: '${line.slice(0, 80)}'.`);
  const [method, uri, version] = parts as [string, string, string];
  if (version !== SIP_VERSION) throw malformed('bad-version', `Unsupported SIP version '${version.slice(0, 20)}'.`);
  if (!TOKEN.test(method)) throw malformed('bad-method', `Not a SIP method: '${method.slice(0, 20)}'.`);
  if (!REQUEST_URI.test(uri)) throw malformed('bad-request-uri', `Not a Request-URI: '${uri.slice(0, 80)}'.`);
  return { kind: 'request', method, uri };
}

function parseHead(head: Uint8Array, limits: SipLimits): ParsedHead {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head);
  } catch {
    throw malformed('bad-encoding', 'The SIP message head is not valid UTF-8.');
  }
  const lines = text.split('\r\n');
  // A bare CR or LF inside a line is how header injection and smuggling start: refuse it.
  if (lines.some((l) => l.includes('\r') || l.includes('\n'))) {
    throw malformed('bare-line-break', 'The SIP message uses a bare CR or LF as a line end.');
  }
  const start = parseStartLine(lines[0] ?? '');
  const headers: SipHeader[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // Line folding (RFC 3261 §7.3.1): continues the previous header's value.
      const prev = headers.pop();
      if (!prev) throw malformed('bad-folding', 'The first SIP header line starts with whitespace.');
      headers.push({ name: prev.name, value: `${prev.value} ${line.trim()}` });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('bad-header', `Not a SIP header line: '${line.slice(0, 80)}'.`, { line: i + 1 });
    const name = line.slice(0, colon).trimEnd();
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name)) throw malformed('bad-header-name', `Not a SIP header name: '${name.slice(0, 40)}'.`, { line: i + 1 });
    if (BAD_VALUE_CHAR.test(value)) throw malformed('bad-header-value', `Header '${name}' holds control characters.`, { line: i + 1 });
    headers.push({ name, value });
    if (headers.length > limits.maxHeaders) {
      throw tooLarge('too-many-headers', `The SIP message has more than ${limits.maxHeaders} headers.`, { maxHeaders: limits.maxHeaders });
    }
  }
  const lengths = headers.filter((h) => canonicalHeaderName(h.name) === 'content-length').map((h) => h.value);
  if (lengths.length === 0) throw malformed('no-content-length', 'A SIP message over a stream needs a Content-Length header.');
  if (new Set(lengths).size > 1) throw malformed('conflicting-content-length', 'The SIP message has conflicting Content-Length headers.');
  if (!/^[0-9]{1,10}$/.test(lengths[0]!)) throw malformed('bad-content-length', `Content-Length '${lengths[0]!.slice(0, 20)}' is not a number.`);
  const contentLength = Number(lengths[0]);
  if (contentLength > limits.maxBodyBytes) {
    throw tooLarge('body-too-large', `The SIP body of ${contentLength} bytes exceeds the ${limits.maxBodyBytes}-byte limit.`, {
      contentLength,
      maxBodyBytes: limits.maxBodyBytes,
    });
  }
  return { start, headers, contentLength };
}

/**
 * Cuts SIP messages out of a byte stream. Feed it what the socket delivers; it returns each
 * complete message once. After a typed error it stays failed, because a stream cannot be
 * re-synchronised once its framing is in doubt.
 */
export class SipStreamDecoder {
  // Received bytes live in store[start, end); the store grows by doubling, so a peer that trickles
  // a message one byte at a time costs linear, not quadratic, copying.
  private store = new Uint8Array(1024);
  private start = 0;
  private end = 0;
  private failure: TetherError | null = null;
  /** The head of the message being received, once its blank line has arrived. */
  private head: (ParsedHead & { end: number }) | null = null;
  /** Bytes of the pending data already searched for the blank line without finding it. */
  private scanned = 0;

  constructor(private readonly limits: SipLimits = DEFAULT_SIP_LIMITS) {}

  /** Bytes received but not yet part of a returned message. */
  get pending(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): SipMessage[] {
    if (this.failure) throw this.failure;
    try {
      this.append(chunk);
      return this.drain();
    } catch (err) {
      this.failure = err instanceof TetherError ? err : malformed('internal', String(err));
      this.store = new Uint8Array(0);
      this.start = this.end = 0;
      throw this.failure;
    }
  }

  private append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.store.length) {
      const pending = this.end - this.start;
      const size = Math.max(1024, pending + chunk.length, pending * 2);
      const next = size <= this.store.length ? this.store : new Uint8Array(size);
      if (next === this.store) this.store.copyWithin(0, this.start, this.end);
      else next.set(this.store.subarray(this.start, this.end), 0);
      this.store = next;
      this.start = 0;
      this.end = pending;
    }
    this.store.set(chunk, this.end);
    this.end += chunk.length;
  }

  private consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }

  private drain(): SipMessage[] {
    const out: SipMessage[] = [];
    for (;;) {
      let buf = this.store.subarray(this.start, this.end);
      if (this.head === null) {
        // RFC 3261 §7.5: CRLFs between messages (keep-alives) are ignored.
        let skip = 0;
        while (skip + 1 < buf.length && buf[skip] === 13 && buf[skip + 1] === 10) skip += 2;
        if (skip > 0) {
          this.consume(skip);
          buf = this.store.subarray(this.start, this.end);
          this.scanned = 0;
        }
        const end = findHeaderEnd(buf, this.scanned);
        if (end < 0 || end + 4 > this.limits.maxHeaderBytes) {
          if (end >= 0 || buf.length > this.limits.maxHeaderBytes) {
            throw tooLarge('head-too-large', `The SIP message head exceeds the ${this.limits.maxHeaderBytes}-byte limit.`, {
              maxHeaderBytes: this.limits.maxHeaderBytes,
            });
          }
          // Next time, search only the bytes that could complete a CRLFCRLF.
          this.scanned = Math.max(0, buf.length - 3);
          return out;
        }
        this.head = { ...parseHead(buf.subarray(0, end), this.limits), end };
      }
      const total = this.head.end + 4 + this.head.contentLength;
      if (buf.length < total) return out;
      out.push({ ...this.head.start, headers: this.head.headers, body: buf.slice(this.head.end + 4, total) });
      this.consume(total);
      this.head = null;
      this.scanned = 0;
    }
  }
}

/**
 * Parses exactly one complete message (as a test or a datagram hands it over). Trailing bytes,
 * a short body or a missing blank line are typed errors.
 */
export function parseSipMessage(bytes: Uint8Array | string, limits: SipLimits = DEFAULT_SIP_LIMITS): SipMessage {
  const buf = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const decoder = new SipStreamDecoder(limits);
  const messages = decoder.push(buf);
  if (messages.length === 0) {
    throw malformed('truncated', 'The SIP message is incomplete (no blank line after the headers, or a short body).');
  }
  if (messages.length > 1 || decoder.pending > 0) throw malformed('trailing-bytes', 'Bytes follow the end of the SIP message.');
  return messages[0]!;
}

/** Serialises a message, writing Content-Length from the body (any given one is replaced). */
export function serializeSipMessage(msg: SipMessage): Uint8Array {
  const start = msg.kind === 'request' ? `${msg.method} ${msg.uri} ${SIP_VERSION}` : `${SIP_VERSION} ${msg.status} ${msg.reason}`;
  parseStartLine(start); // the same strictness on the way out: never emit what we would refuse
  const lines = [start];
  for (const h of msg.headers) {
    if (canonicalHeaderName(h.name) === 'content-length') continue;
    if (!TOKEN.test(h.name) || BAD_VALUE_CHAR.test(h.value)) {
      throw new TetherError('BAD_INPUT', `Header '${h.name.slice(0, 40)}' cannot be put in a SIP message.`);
    }
    lines.push(`${h.name}: ${h.value}`);
  }
  lines.push(`Content-Length: ${msg.body.length}`, '', '');
  const head = new TextEncoder().encode(lines.join('\r\n'));
  const out = new Uint8Array(head.length + msg.body.length);
  out.set(head, 0);
  out.set(msg.body, head.length);
  return out;
}
