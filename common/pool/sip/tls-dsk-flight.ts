/**
 * Where one TLS "flight" ends, read from the records the TLS engine writes. TLS-DSK carries each
 * flight in one `gssapi-data` parameter [MS-SIPAE §3.2.5.1], so the side that sends must know when
 * its engine is waiting for the peer. TLS ≤ 1.2 (RFC 5246 §7.3) flights end with a ClientHello
 * (client, first flight), a ServerHelloDone (server, first flight), or the first record after a
 * ChangeCipherSpec (the encrypted Finished that closes both later flights). An alert ends a flight
 * too: it is the last thing a failing engine sends.
 */

const CHANGE_CIPHER_SPEC = 20;
const ALERT = 21;
const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const SERVER_HELLO_DONE = 14;
/** A record's body is at most 2^14 bytes plus expansion (RFC 5246 §6.2.3). */
const MAX_RECORD = 16384 + 2048;

/** One flight and what ended it. */
export interface TlsFlight {
  readonly bytes: Buffer;
  /** `hello`: a ClientHello or ServerHelloDone; `finished`: a Finished after ChangeCipherSpec; `alert`. */
  readonly end: 'hello' | 'finished' | 'alert';
}

export class TlsFlightCollector {
  private pending = Buffer.alloc(0);
  private flight: Buffer[] = [];
  /** Plain handshake bytes not yet split into messages (a message may span records). */
  private handshake = Buffer.alloc(0);
  private afterCcs = false;

  /** Eats bytes the engine wrote; returns each complete flight (usually none or one). */
  push(chunk: Uint8Array): TlsFlight[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    const done: TlsFlight[] = [];
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt16BE(3);
      if (length > MAX_RECORD) throw new Error(`TLS record of ${length} bytes`);
      if (this.pending.length < 5 + length) break;
      const record = this.pending.subarray(0, 5 + length);
      this.pending = this.pending.subarray(5 + length);
      this.flight.push(Buffer.from(record));
      const end = this.endsFlight(record[0]!, record.subarray(5));
      if (end) {
        done.push({ bytes: Buffer.concat(this.flight), end });
        this.flight = [];
        this.afterCcs = false;
        this.handshake = Buffer.alloc(0);
      }
    }
    return done;
  }

  private endsFlight(type: number, body: Buffer): TlsFlight['end'] | null {
    if (type === ALERT) return 'alert';
    if (type === CHANGE_CIPHER_SPEC) {
      this.afterCcs = true;
      return null;
    }
    if (this.afterCcs) return 'finished'; // the encrypted Finished
    if (type !== HANDSHAKE) return null;
    this.handshake = Buffer.concat([this.handshake, body]);
    let last = -1;
    while (this.handshake.length >= 4) {
      const size = this.handshake.readUIntBE(1, 3);
      if (this.handshake.length < 4 + size) break;
      last = this.handshake[0]!;
      this.handshake = this.handshake.subarray(4 + size);
    }
    return last === CLIENT_HELLO || last === SERVER_HELLO_DONE ? 'hello' : null;
  }
}

/** True when `bytes` is one or more whole TLS records (what a peer's flight must be). */
export function isWholeRecords(bytes: Uint8Array): boolean {
  let at = 0;
  while (at + 5 <= bytes.length) {
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (length > MAX_RECORD) return false;
    at += 5 + length;
  }
  return at === bytes.length && bytes.length > 0;
}
