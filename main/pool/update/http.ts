import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { TetherError } from '../../../common/errors';

export interface UpdateHttpOptions {
  /** Extra trusted roots (PEM), e.g. the lab's CA; the system's roots stay trusted. TLS is always verified. */
  readonly ca?: string | string[];
  /** Name resolution through the pool's DNS server (PoolResolver.lookup). */
  readonly lookup?: LookupFunction;
  /** No answer (headers, or the next body chunk) for this long aborts the request. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Sends one request and resolves with the response head; the body is left for the caller to stream. */
export function send(
  url: URL,
  init: { method: string; headers?: Record<string, string>; body?: string },
  options: UpdateHttpOptions,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new TetherError('BAD_INPUT', `Only http and https URLs are fetched, not ${url.protocol}`));
      return;
    }
    const secure = url.protocol === 'https:';
    const body = init.body === undefined ? undefined : Buffer.from(init.body, 'utf8');
    const req = (secure ? httpsRequest : httpRequest)(url, {
      method: init.method,
      headers: { ...init.headers, ...(body ? { 'Content-Length': String(body.length) } : {}) },
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(secure && options.ca ? { ca: options.ca } : {}),
      timeout: options.timeoutMs ?? 15_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${options.timeoutMs ?? 15_000} ms`), { code: 'ETIMEDOUT' })));
    req.once('error', reject);
    req.once('response', (res) => {
      // The same idle limit applies while the body streams.
      res.socket.setTimeout(options.timeoutMs ?? 15_000);
      resolve(res);
    });
    req.end(body);
  });
}

/** Reads a small body, refusing it past `maxBytes` as it arrives. */
export async function readSmallBody(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      res.destroy();
      throw new TetherError('UPDATE_RESPONSE_MALFORMED', `The Device Update answer exceeds ${maxBytes} bytes.`, { detail: { maxBytes } });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Node's network error codes → a short plain reason. */
export function networkReason(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ECONNREFUSED':
      return 'the server refused the connection';
    case 'ENOTFOUND':
      return 'the name does not resolve';
    case 'ETIMEDOUT':
      return message;
    case 'ECONNRESET':
      return 'the connection was reset';
    default:
      return code ? `${code}: ${message}` : message;
  }
}
