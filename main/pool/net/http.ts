import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import { TetherError } from '../../../common/errors';
import type { StageId } from '../../../common/stages';
import { isRetryable, transportError } from './http-errors';
import { createPoolResolver, type PoolResolver } from './resolver';

/**
 * The pool HTTP client. Every pool client (Device Update, chain download, WebTicket, CertProv)
 * goes through one of these, so that:
 * - names resolve through the configured PoolResolver (the helpdesk's or the lab's DNS);
 * - TLS is always verified, against Node's roots (or only the roots given) plus any extra CA PEMs;
 * - every request has connect, idle and total timeouts, and a response-size limit;
 * - only idempotent calls are retried (exponential backoff);
 * - every failure is a typed error carrying the caller's stage.
 */

export interface HttpTimeouts {
  /** From the start of the request until the (TLS) connection is up, DNS included. */
  connectMs: number;
  /** Longest silence on the socket while waiting for or reading the answer. */
  idleMs: number;
  /** From the start until the whole body has arrived. */
  totalMs: number;
}

export interface RetryPolicy {
  /** Total tries, the first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { connectMs: 10_000, idleMs: 30_000, totalMs: 60_000 };
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 4_000 };
/** 8 MiB: SOAP answers are a few KiB; firmware downloads pass their own limit. */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export interface PoolHttpOptions {
  /** Name resolution for every socket; the system's DNS when omitted. */
  resolver?: PoolResolver;
  /** Extra trusted CA certificates (PEM), added to `baseRoots` (never replacing verification). */
  extraCaPems?: readonly string[];
  /**
   * The roots trusted besides `extraCaPems`; default Node's bundled store (`tls.rootCertificates`).
   * Pass [] to trust only `extraCaPems`, e.g. only the validated stage-6 chain, as the phone does.
   */
  baseRoots?: readonly string[];
  /**
   * A TLS client certificate and key (PEM) presented on every https connection: the phone's
   * authenticated HTTPS outside the corporate network (docs/pool/external.md). Default none.
   */
  clientCertificate?: { readonly certPem: string; readonly keyPem: string };
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryPolicy>;
  maxResponseBytes?: number;
  userAgent?: string;
  /** Waits between retries; tests inject one that records instead of sleeping. */
  sleep?: (ms: number) => Promise<void>;
}

export interface PoolRequest {
  url: string | URL;
  method?: string;
  headers?: Readonly<Record<string, string>>;
  body?: string | Uint8Array;
  /** The bootstrap stage this call belongs to; every error it raises carries it. */
  stage: StageId;
  /** Marks a non-GET/HEAD call safe to repeat (e.g. a read-only SOAP query). */
  idempotent?: boolean;
  /** Never retry, even a GET (a leg of a connection-bound handshake must not move to a new socket). */
  noRetry?: boolean;
  timeouts?: Partial<HttpTimeouts>;
  maxResponseBytes?: number;
  /**
   * Which statuses are an answer rather than an error. Default: below 500. A SOAP client passes
   * one that also accepts 500, because SOAP 1.1 faults arrive with status 500.
   */
  acceptStatus?: (status: number) => boolean;
  signal?: AbortSignal;
}

export interface PoolResponse {
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Which connection served this answer (same number = same kept-alive socket). */
  readonly socketId: number;
  readonly reusedSocket: boolean;
}

export interface PoolStreamResponse extends Omit<PoolResponse, 'body'> {
  /** The body, size-limited and under the request's timeouts; leaving the loop early closes it. */
  readonly body: AsyncIterable<Buffer>;
  /** Closes the answer without reading the rest. */
  cancel(): void;
}

/** One header value as a string (first of a repeated header). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

type Agent = http.Agent | https.Agent;

interface Exchange {
  readonly res: IncomingMessage;
  readonly socketId: number;
  readonly reused: boolean;
  /** Translates an error seen while reading the body (a timeout we fired wins over Node's). */
  mapError(err: unknown): TetherError;
  /** Stops the timers; destroys the answer if it was not read to the end. */
  finish(): void;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
let nextSocketId = 1;
const socketIds = new WeakMap<Socket, number>();

export class PoolHttpClient {
  private readonly agents = new Map<string, Agent>();
  private readonly resolver: PoolResolver;
  private readonly ca: string[];
  private readonly clientCertificate: PoolHttpOptions['clientCertificate'];
  private readonly timeouts: HttpTimeouts;
  private readonly retry: RetryPolicy;
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private closed = false;

  constructor(options: PoolHttpOptions = {}) {
    this.resolver = options.resolver ?? createPoolResolver();
    this.ca = [...(options.baseRoots ?? rootCertificates), ...(options.extraCaPems ?? [])];
    this.clientCertificate = options.clientCertificate;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.userAgent = options.userAgent ?? 'Tether/0.1';
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Sends a request and reads the whole (size-limited) body. */
  async request(req: PoolRequest): Promise<PoolResponse> {
    return this.withRetries(req, (agent) => this.bufferedOnce(req, agent), this.agentFor(req));
  }

  /** Sends a request and hands back the body as a stream (downloads). Retries cover only the part before the headers. */
  async stream(req: PoolRequest): Promise<PoolStreamResponse> {
    return this.withRetries(req, (agent) => this.streamOnce(req, agent), this.agentFor(req));
  }

  /**
   * A session bound to one kept-alive connection to the URL's origin: its requests run one after
   * another on a single socket while the server keeps it open (RFC 4559 NTLM binds to the connection).
   */
  session(url: string | URL): HttpSession {
    const origin = this.parseUrl(url, 'auth');
    const agent = this.makeAgent(origin.protocol, 1);
    return {
      request: (req) => this.withRetries(req, (a) => this.bufferedOnce(req, a), agent),
      close: () => agent.destroy(),
    };
  }

  /** Closes every kept-alive connection. */
  close(): void {
    this.closed = true;
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private parseUrl(url: string | URL, stage: StageId): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new TetherError('HTTP_BAD_URL', `Not a valid URL: ${String(url)}`, { stage, cause });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TetherError('HTTP_BAD_URL', `Only http and https URLs are supported, not ${parsed.protocol}`, { stage });
    }
    return parsed;
  }

  private makeAgent(protocol: string, maxSockets = 8): Agent {
    // One place sets the socket options, so no path can skip the resolver or the CA list.
    const common = { keepAlive: true, maxSockets, lookup: this.resolver.lookup };
    const client = this.clientCertificate ? { cert: this.clientCertificate.certPem, key: this.clientCertificate.keyPem } : {};
    return protocol === 'https:' ? new https.Agent({ ...common, ...client, ca: this.ca, rejectUnauthorized: true }) : new http.Agent(common);
  }

  /** One keep-alive agent per pool host (scheme + host + port). */
  private agentFor(req: PoolRequest): Agent {
    const url = this.parseUrl(req.url, req.stage);
    const key = `${url.protocol}//${url.host}`;
    let agent = this.agents.get(key);
    if (!agent) {
      agent = this.makeAgent(url.protocol);
      this.agents.set(key, agent);
    }
    return agent;
  }

  private async withRetries<T>(req: PoolRequest, once: (agent: Agent) => Promise<T>, agent: Agent): Promise<T> {
    const method = (req.method ?? 'GET').toUpperCase();
    const idempotent = req.idempotent === true || IDEMPOTENT_METHODS.has(method);
    const attempts = idempotent && req.noRetry !== true ? Math.max(1, this.retry.attempts) : 1;
    let staleRetried = false;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new TetherError('CANCELLED', 'The HTTP client was closed.', { stage: req.stage });
      try {
        return await once(agent);
      } catch (err) {
        const e = err instanceof TetherError ? err : transportError(err, req.stage, { url: String(req.url) });
        // Node's documented keep-alive race: the server closed an idle socket as we reused it. The
        // request was never processed, so one immediate retry on a fresh socket is safe for any method.
        if (e.detail.staleSocket === true && !staleRetried && req.noRetry !== true) {
          staleRetried = true;
          attempt--;
          continue;
        }
        if (attempt >= attempts || !isRetryable(e) || req.signal?.aborted) throw e;
        const retryAfter = typeof e.detail.retryAfterMs === 'number' ? e.detail.retryAfterMs : 0;
        const backoff = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        await this.sleep(Math.min(this.retry.maxDelayMs, Math.max(backoff, retryAfter)));
      }
    }
  }

  private async bufferedOnce(req: PoolRequest, agent: Agent): Promise<PoolResponse> {
    const limit = req.maxResponseBytes ?? this.maxResponseBytes;
    const ex = await this.exchange(req, agent, limit);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of readLimited(ex, limit, req)) chunks.push(chunk);
    } finally {
      ex.finish();
    }
    const response: PoolResponse = {
      url: String(req.url),
      status: ex.res.statusCode ?? 0,
      statusText: ex.res.statusMessage ?? '',
      headers: ex.res.headers,
      body: Buffer.concat(chunks),
      socketId: ex.socketId,
      reusedSocket: ex.reused,
    };
    checkStatus(req, response.status, response.headers);
    return response;
  }

  private async streamOnce(req: PoolRequest, agent: Agent): Promise<PoolStreamResponse> {
    const limit = req.maxResponseBytes ?? this.maxResponseBytes;
    const ex = await this.exchange(req, agent, limit);
    try {
      checkStatus(req, ex.res.statusCode ?? 0, ex.res.headers);
    } catch (err) {
      ex.finish();
      throw err;
    }
    return {
      url: String(req.url),
      status: ex.res.statusCode ?? 0,
      statusText: ex.res.statusMessage ?? '',
      headers: ex.res.headers,
      socketId: ex.socketId,
      reusedSocket: ex.reused,
      body: (async function* () {
        try {
          yield* readLimited(ex, limit, req);
        } finally {
          ex.finish();
        }
      })(),
      cancel: () => ex.finish(),
    };
  }

  /** Sends one request and resolves when the answer's headers have arrived. */
  private exchange(req: PoolRequest, agent: Agent, limit: number): Promise<Exchange> {
    const url = this.parseUrl(req.url, req.stage);
    const t = { ...this.timeouts, ...req.timeouts };
    const method = (req.method ?? 'GET').toUpperCase();
    const where = { url: `${url.origin}${url.pathname}`, method };
    const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...lowerKeys(req.headers ?? {}) };
    if (body !== undefined) headers['content-length'] = String(body.byteLength);

    return new Promise<Exchange>((resolve, reject) => {
      let fired: TetherError | undefined;
      let answered = false;
      let finished = false;
      let res: IncomingMessage | undefined;
      const timers: NodeJS.Timeout[] = [];
      const mapError = (err: unknown): TetherError => fired ?? transportError(err, req.stage, where);
      const abortWith = (err: TetherError): void => {
        fired ??= err;
        if (res) res.destroy(fired);
        creq.destroy(fired);
      };
      const timeout = (phase: 'connect' | 'idle' | 'total', ms: number) =>
        new TetherError('HTTP_TIMEOUT', `No ${phase === 'connect' ? 'connection' : 'answer'} within ${ms} ms (${phase} timeout).`, {
          stage: req.stage,
          detail: { ...where, phase, timeoutMs: ms },
        });
      const finish = (): void => {
        if (finished) return;
        finished = true;
        for (const timer of timers) clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (res && !res.complete) res.destroy();
      };
      const onAbort = (): void => abortWith(new TetherError('CANCELLED', 'The request was cancelled.', { stage: req.stage, detail: where }));

      const lib = url.protocol === 'https:' ? https : http;
      const creq = lib.request(url, { method, headers, agent });
      timers.push(setTimeout(() => abortWith(timeout('total', t.totalMs)), t.totalMs));
      const connectTimer = setTimeout(() => abortWith(timeout('connect', t.connectMs)), t.connectMs);
      timers.push(connectTimer);
      creq.setTimeout(t.idleMs, () => abortWith(timeout('idle', t.idleMs)));
      if (req.signal) {
        if (req.signal.aborted) queueMicrotask(onAbort);
        else req.signal.addEventListener('abort', onAbort, { once: true });
      }

      creq.on('socket', (socket: Socket) => {
        const known = socketIds.get(socket);
        if (known !== undefined) {
          clearTimeout(connectTimer);
          return;
        }
        socketIds.set(socket, nextSocketId++);
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      creq.on('error', (err) => {
        if (answered) return; // body-phase errors surface through the body reader
        finish();
        const e = mapError(err);
        // A kept-alive socket the server had already closed: the request never reached it.
        const stale = fired === undefined && creq.reusedSocket && (err as { code?: unknown }).code === 'ECONNRESET';
        reject(stale ? new TetherError(e.code, e.message, { stage: e.stage, detail: { ...e.detail, staleSocket: true }, cause: err }) : e);
      });
      creq.on('response', (incoming) => {
        res = incoming;
        answered = true;
        const socket = creq.socket;
        const declared = Number(incoming.headers['content-length']);
        if (Number.isFinite(declared) && declared > limit) {
          finish();
          reject(tooLarge(req, where, limit, declared));
          return;
        }
        // Keep an error listener so a failure while nobody reads does not crash the process.
        incoming.on('error', () => undefined);
        resolve({
          res: incoming,
          socketId: socket ? (socketIds.get(socket) ?? 0) : 0,
          reused: creq.reusedSocket,
          mapError,
          finish,
        });
      });
      creq.end(body);
    });
  }
}

/** The part of the client a connection-bound protocol (NTLM) needs. */
export interface HttpSession {
  request(req: PoolRequest): Promise<PoolResponse>;
  close(): void;
}

function lowerKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function tooLarge(req: PoolRequest, where: Record<string, string>, limit: number, size: number | string): TetherError {
  return new TetherError('HTTP_RESPONSE_TOO_LARGE', `The answer is larger than the ${limit}-byte limit.`, {
    stage: req.stage,
    detail: { ...where, maxBytes: limit, size },
  });
}

async function* readLimited(ex: Exchange, limit: number, req: PoolRequest): AsyncGenerator<Buffer> {
  let total = 0;
  const url = new URL(req.url);
  const where = { url: `${url.origin}${url.pathname}`, method: (req.method ?? 'GET').toUpperCase() };
  try {
    for await (const chunk of ex.res) {
      const buf = chunk as Buffer;
      total += buf.byteLength;
      if (total > limit) throw tooLarge(req, where, limit, `>${limit}`);
      yield buf;
    }
  } catch (err) {
    throw ex.mapError(err);
  }
  if (!ex.res.complete) throw ex.mapError(Object.assign(new Error('The connection closed before the answer was complete.'), { code: 'ECONNRESET' }));
}

function checkStatus(req: PoolRequest, status: number, headers: IncomingHttpHeaders): void {
  const accept = req.acceptStatus ?? ((s: number) => s < 500);
  if (accept(status)) return;
  const url = new URL(req.url);
  const diagnostics = headerValue(headers, 'x-ms-diagnostics');
  const retryAfter = Number(headerValue(headers, 'retry-after'));
  const detail = {
    url: `${url.origin}${url.pathname}`,
    status,
    ...(diagnostics === undefined ? {} : { msDiagnostics: diagnostics.slice(0, 500) }),
    ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
  };
  if (status >= 500) throw new TetherError('HTTP_SERVER_ERROR', `The server answered HTTP ${status}.`, { stage: req.stage, detail });
  throw new TetherError('HTTP_UNEXPECTED_STATUS', `The server answered HTTP ${status}.`, { stage: req.stage, detail });
}
