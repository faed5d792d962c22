import { X509Certificate } from 'node:crypto';
import { Duplex } from 'node:stream';
import { connect, createServer, type SecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import { isWholeRecords, TlsFlightCollector, type TlsFlight } from './tls-dsk-flight';
import { OPTIONAL_CLIENT_CERTIFICATE } from '../optional-client-certificate';

/**
 * The TLS handshake inside TLS-DSK [MS-SIPAE §3.2.5.1, §3.3.5.2], run by Node's own TLS engine
 * over a stream that is fed from, and drained into, `gssapi-data`: each call hands in the peer's
 * flight and returns ours. No application data ever crosses this TLS; only its handshake and the
 * keys it leaves behind matter.
 *
 * Inner TLS as built (docs/pool/registrar.md "Inner TLS"): TLS 1.2, suites
 * TLS_RSA_WITH_AES_256_CBC_SHA and TLS_RSA_WITH_AES_128_CBC_SHA, OpenSSL's default security level.
 * Why:
 *  - the keys come from the TLS PRF over the master secret ("client EAP encryption", below), which
 *    TLS 1.3 no longer has;
 *  - SIPE (the one public client that works with real pools) offers RSA key exchange with RC4 or
 *    AES-CBC and a SHA-1 or MD5 MAC, and signs with the HMAC of the suite's MAC; RC4 is gone from
 *    OpenSSL 3 (and RFC 7465), leaving the two AES suites, so the signature is always HMAC-SHA1;
 *  - TLS 1.0 and 1.1 (SIPE sends a TLS 1.0 ClientHello) would need OpenSSL's security level 0,
 *    which Tether never sets (docs/virtual-phone.md, "Key size and TLS security"); a TLS 1.0-only
 *    peer fails the inner handshake with a typed error.
 */
export const TLS_DSK_INNER_TLS = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.2',
  ciphers: 'AES256-SHA:AES128-SHA',
} as const;

/** MS-SIPAE's key block: PRF(master_secret, "client EAP encryption", client_random + server_random). */
export const TLS_DSK_KEY_LABEL = 'client EAP encryption';

export interface TlsDskKeys {
  /** HMAC algorithm of the negotiated suite's MAC. */
  readonly algorithm: 'sha1' | 'md5';
  /** Third 32 bytes of the 128-byte key block: signs what the client sends. */
  readonly clientKey: Buffer;
  /** Fourth 32 bytes: signs what the server sends. */
  readonly serverKey: Buffer;
  readonly protocol: string;
  /** Standard (IANA) name of the suite. */
  readonly cipher: string;
}

export interface TlsDskPeer {
  /** True when the inner certificate chains to the CA the server trusts and is within its dates. */
  readonly authorized: boolean;
  readonly authorizationError: string | null;
  /** The client's certificate (DER) when it sent one. */
  readonly certDer: Buffer | null;
}

/** The key block split as MS-SIPAE says (and as SIPE's sipe-tls.c reads it). */
export function tlsDskKeys(socket: TLSSocket): TlsDskKeys {
  // No context argument: with one (even empty) RFC 5705 mixes it into the seed, and the key block
  // would no longer be the EAP-TLS one. Node's typing asks for a context; its code takes none.
  const exportKeys = socket.exportKeyingMaterial as (length: number, label: string) => Buffer;
  const block = exportKeys.call(socket, 128, TLS_DSK_KEY_LABEL);
  const cipher = socket.getCipher();
  const name = cipher.standardName ?? cipher.name;
  const algorithm = /_SHA$|-SHA$/.test(name) ? 'sha1' : /MD5$/.test(name) ? 'md5' : null;
  if (algorithm === null) throw new Error(`inner TLS suite ${name} has no SHA-1 or MD5 MAC`);
  return { algorithm, clientKey: Buffer.from(block.subarray(64, 96)), serverKey: Buffer.from(block.subarray(96, 128)), protocol: socket.getProtocol() ?? '', cipher: name };
}

/** A stream that records what the TLS engine writes, flight by flight, and reads what we push. */
class FlightWire extends Duplex {
  private readonly collector = new TlsFlightCollector();
  private waiter: { resolve: (flight: TlsFlight) => void; reject: (err: Error) => void } | null = null;
  private ready: TlsFlight[] = [];
  private failure: Error | null = null;

  override _read(): void {
    // Data arrives only through feed().
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    try {
      this.ready.push(...this.collector.push(chunk));
    } catch (err) {
      this.fail(err as Error);
    }
    this.deliver();
    callback();
  }

  /** Hands the peer's flight to the engine; a flight that is not whole TLS records is refused. */
  feed(bytes: Uint8Array): void {
    if (!isWholeRecords(bytes)) throw new Error('the peer\'s gssapi-data is not whole TLS records');
    this.push(Buffer.from(bytes));
  }

  /** The next complete flight the engine wrote. */
  nextFlight(): Promise<TlsFlight> {
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.deliver();
    });
  }

  /** Why the engine failed, once it said (its 'error' may come just after its alert). */
  async failureAfterAlert(): Promise<Error> {
    await new Promise((resolve) => setImmediate(resolve));
    return this.failure ?? new Error('the inner TLS handshake ended with an alert');
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.deliver();
  }

  private deliver(): void {
    const w = this.waiter;
    if (!w) return;
    const flight = this.ready.shift();
    if (flight) {
      this.waiter = null;
      w.resolve(flight);
    } else if (this.failure) {
      this.waiter = null;
      w.reject(this.failure);
    }
  }
}

export type ClientStep = { readonly kind: 'token'; readonly token: Buffer } | { readonly kind: 'established'; readonly keys: TlsDskKeys; readonly certNotAfter: Date | null };

/**
 * The client's side: `start()` gives the ClientHello; `next(serverFlight)` gives the next flight
 * or, once the server's Finished is in, the keys. The secure context carries the user's
 * certificate and key and the CAs trusted for the server's inner certificate (checked against
 * `targetname`, as the outer certificate is against the Registrar FQDN).
 */
export class TlsDskClientHandshake {
  private readonly wire = new FlightWire();
  private readonly socket: TLSSocket;
  private readonly secured: Promise<TlsDskKeys>;

  constructor(secureContext: SecureContext, targetname: string, private readonly certificateDer: Uint8Array | null = null) {
    this.socket = connect({ socket: this.wire, secureContext, host: targetname, servername: targetname, ...TLS_DSK_INNER_TLS });
    this.secured = new Promise((resolve, reject) => {
      this.socket.once('secureConnect', () => {
        try {
          resolve(tlsDskKeys(this.socket));
        } catch (err) {
          reject(err as Error);
        }
      });
      // `on`, not `once`: a second 'error' without a listener would throw out of the event loop.
      this.socket.on('error', (err) => {
        this.wire.fail(err);
        reject(err);
      });
    });
    this.secured.catch(() => undefined); // surfaced by next()
  }

  async start(): Promise<Buffer> {
    return (await this.wire.nextFlight()).bytes;
  }

  async next(serverFlight: Uint8Array): Promise<ClientStep> {
    this.wire.feed(serverFlight);
    const step = await Promise.race([
      this.wire.nextFlight(),
      this.secured.then((keys) => ({ kind: 'established' as const, keys, certNotAfter: this.notAfter() })),
    ]);
    if ('kind' in step) return step;
    if (step.end === 'alert') throw await this.wire.failureAfterAlert();
    return { kind: 'token', token: step.bytes };
  }

  close(): void {
    this.socket.destroy();
  }

  private notAfter(): Date | null {
    if (!this.certificateDer) return null;
    return new Date(new X509Certificate(this.certificateDer).validTo);
  }
}

export type ServerStep =
  | { readonly kind: 'token'; readonly token: Buffer; readonly established: null }
  | { readonly kind: 'token'; readonly token: Buffer; readonly established: { readonly keys: TlsDskKeys; readonly peer: TlsDskPeer } };

/**
 * The server's side. A never-listening tls.Server per handshake (a server builds its own context
 * from options, so it takes PEMs, not a SecureContext) gives OpenSSL's verdict on the
 * client certificate (`authorized`, `authorizationError`) through Node's public API; the
 * certificate is requested but its absence does not abort the handshake, so the registrar can
 * answer with a SIP error instead of a bare TLS alert.
 */
export class TlsDskServerHandshake {
  private readonly wire = new FlightWire();
  private readonly secured: Promise<{ keys: TlsDskKeys; peer: TlsDskPeer }>;
  private socket: TLSSocket | null = null;

  /**
   * `credentials`: the server's certificate and key and the CAs its users' certificates chain to.
   * `stepTimeoutMs`: a hang guard, far above any real step (milliseconds of CPU), for a flight of
   * whole records that still leaves the engine waiting (e.g. a Certificate without the rest).
   */
  constructor(
    credentials: Pick<SecureContextOptions, 'cert' | 'key' | 'ca'>,
    private readonly stepTimeoutMs = 10_000,
  ) {
    const server = createServer({ cert: credentials.cert, key: credentials.key, ca: credentials.ca, ...TLS_DSK_INNER_TLS, ...OPTIONAL_CLIENT_CERTIFICATE });
    this.secured = new Promise((resolve, reject) => {
      server.once('secureConnection', (socket: TLSSocket) => {
        this.socket = socket;
        try {
          const der = socket.getPeerX509Certificate()?.raw ?? null;
          resolve({
            keys: tlsDskKeys(socket),
            peer: {
              authorized: socket.authorized,
              authorizationError: socket.authorizationError === undefined || socket.authorizationError === null ? null : String(socket.authorizationError),
              certDer: der === null ? null : Buffer.from(der),
            },
          });
        } catch (err) {
          reject(err as Error);
        }
      });
      server.on('tlsClientError', (err) => {
        this.wire.fail(err);
        reject(err);
      });
    });
    this.secured.catch(() => undefined);
    server.emit('connection', this.wire);
  }

  /** Feeds the client's flight; returns ours, with the keys and the client's identity once done. */
  async next(clientFlight: Uint8Array): Promise<ServerStep> {
    this.wire.feed(clientFlight);
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the client\'s flight left the inner handshake waiting')), this.stepTimeoutMs);
    });
    const flight = await Promise.race([this.wire.nextFlight(), stalled]).finally(() => clearTimeout(timer));
    // An alert is the engine giving up; its reason is the tlsClientError.
    if (flight.end === 'alert') throw await this.wire.failureAfterAlert();
    if (flight.end === 'hello') return { kind: 'token', token: flight.bytes, established: null };
    return { kind: 'token', token: flight.bytes, established: await this.secured };
  }

  close(): void {
    // A step still waiting (its connection went away) ends now rather than at its hang guard.
    this.wire.fail(new Error('the security association was closed'));
    this.socket?.destroy();
    this.wire.destroy();
  }
}
