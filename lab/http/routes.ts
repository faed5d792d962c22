import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabRoutes, RouteHandler, RouteInfo } from '../context';

interface Route {
  method: string;
  /** The exact path, or the prefix (ending in '/') of a '/*' route. */
  path: string;
  prefix: boolean;
  handler: RouteHandler;
  http: boolean;
  https: boolean;
}

export type RouteMatch =
  | { kind: 'handler'; handler: RouteHandler }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: string[] };

/**
 * The lab's route table, shared by its HTTP and HTTPS listeners. An exact path beats a prefix;
 * among prefixes the longest wins. A path that exists with other methods answers 405 with Allow.
 */
export class RouteTable implements LabRoutes {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: RouteHandler, on: { http?: boolean; https?: boolean } = {}): void {
    if (!path.startsWith('/')) throw new RangeError(`Route path must start with '/': ${path}`);
    const prefix = path.endsWith('/*');
    const route: Route = {
      method: method.toUpperCase(),
      path: prefix ? path.slice(0, -1) : path,
      prefix,
      handler,
      http: on.http ?? true,
      https: on.https ?? true,
    };
    const clash = this.routes.find(
      (r) =>
        r.method === route.method &&
        r.path === route.path &&
        r.prefix === route.prefix &&
        ((r.http && route.http) || (r.https && route.https)),
    );
    if (clash) throw new RangeError(`Route ${route.method} ${path} is already taken.`);
    this.routes.push(route);
  }

  match(method: string, pathname: string, secure: boolean): RouteMatch {
    const candidates = this.routes.filter((r) => (secure ? r.https : r.http) && this.covers(r, pathname));
    if (candidates.length === 0) return { kind: 'not-found' };
    // Most specific first: exact, then the longest prefix.
    const rank = (r: Route) => (r.prefix ? r.path.length : Number.MAX_SAFE_INTEGER);
    candidates.sort((a, b) => rank(b) - rank(a));
    const wanted = method.toUpperCase();
    const best = candidates[0]!;
    const sameSpecificity = candidates.filter((r) => rank(r) === rank(best));
    const hit =
      sameSpecificity.find((r) => r.method === wanted) ??
      // HEAD is GET without a body (Node drops the body for HEAD responses).
      (wanted === 'HEAD' ? sameSpecificity.find((r) => r.method === 'GET') : undefined) ??
      candidates.find((r) => r.method === wanted);
    if (hit) return { kind: 'handler', handler: hit.handler };
    const allow = [...new Set(sameSpecificity.map((r) => r.method))];
    if (allow.includes('GET') && !allow.includes('HEAD')) allow.push('HEAD');
    return { kind: 'method-not-allowed', allow: allow.sort() };
  }

  private covers(r: Route, pathname: string): boolean {
    return r.prefix ? pathname.startsWith(r.path) || pathname === r.path.slice(0, -1) : pathname === r.path;
  }
}

/** Answers a request through the table: handler, 404, 405, or 500 when a handler throws. */
export async function dispatch(
  table: RouteTable,
  req: IncomingMessage,
  res: ServerResponse,
  info: RouteInfo,
  log: (message: string) => void,
): Promise<void> {
  const m = table.match(req.method ?? 'GET', info.url.pathname, info.secure);
  if (m.kind === 'not-found') {
    sendText(res, 404, 'Not Found');
    return;
  }
  if (m.kind === 'method-not-allowed') {
    res.setHeader('Allow', m.allow.join(', '));
    sendText(res, 405, 'Method Not Allowed');
    return;
  }
  try {
    await m.handler(req, res, info);
  } catch (err) {
    log(`${req.method} ${info.url.pathname}: handler failed: ${(err as Error).message}`);
    if (!res.headersSent) sendText(res, 500, 'Internal Server Error');
    else res.destroy();
  }
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text + '\n', 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value) + '\n', 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

/** Reads a request body up to `limit` bytes; larger bodies reject with a 413-worthy error. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(Object.assign(new Error(`Body larger than ${limit} bytes.`), { status: 413 }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
