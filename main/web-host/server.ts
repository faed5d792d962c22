import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TetherService } from '../../common/service/contract';
import { MAX_CALL_BYTES } from '../../common/service/wire';
import { openConnection, type Connection } from '../bridge/connection';
import { contentSecurityPolicy, newNonce, withNonce } from '../bridge/csp';
import { cookieName, hostAllowed, originAllowed, requestToken, tokenMatches } from './checks';
import { loadStaticFiles } from '../bridge/static-files';

/**
 * The loopback browser host: serves the built renderer and carries the service contract over a
 * WebSocket, for machines with no Electron runtime. Listens on 127.0.0.1 only, on a free port;
 * every request is checked (checks.ts) and anything refused gets an empty 403.
 */

export interface WebHostOptions {
  readonly service: TetherService;
  /** The built renderer (dist/renderer). */
  readonly rendererDir: string;
  readonly port?: number;
  /** Default: 32 random bytes, base64url. */
  readonly token?: string;
  readonly progressIntervalMs?: number;
}

export interface WebHost {
  readonly port: number;
  readonly token: string;
  /** The URL to open: http://127.0.0.1:PORT/?token=… */
  readonly url: string;
  /** Events sent to and progress reports coalesced for every connection so far (for the bench). */
  readonly stats: { sent: number; coalesced: number; connections: number; refused: number };
  close(): Promise<void>;
}

const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const files = await loadStaticFiles(options.rendererDir);
  const indexHtml = files.get('/index.html')!.body.toString('utf8');
  const token = options.token ?? randomBytes(32).toString('base64url');
  const stats = { sent: 0, coalesced: 0, connections: 0, refused: 0 };
  const sockets = new Set<WebSocket>();
  const connections = new Set<Connection>();
  let port = 0;

  const refuse = (res: ServerResponse) => {
    stats.refused++;
    res.writeHead(403, { ...BASE_HEADERS, 'Content-Length': '0' }).end();
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!hostAllowed(req.headers.host, port) || !tokenMatches(requestToken(url, req.headers.cookie, port), token)) return refuse(res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res);
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    const file = files.get(path);
    if (!file) {
      res.writeHead(404, { ...BASE_HEADERS, 'Content-Length': '0' }).end();
      return;
    }
    const headers: Record<string, string> = { ...BASE_HEADERS, 'Content-Type': file.type };
    let body = file.body;
    if (path === '/index.html') {
      const nonce = newNonce();
      body = Buffer.from(withNonce(indexHtml, nonce));
      headers['Content-Security-Policy'] = contentSecurityPolicy(nonce, [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]);
      // The printed URL's token becomes a cookie the page's later requests and WebSocket carry.
      headers['Set-Cookie'] = `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    headers['Content-Length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CALL_BYTES });
  const server = createServer(onRequest);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ok =
      url.pathname === '/ws' &&
      hostAllowed(req.headers.host, port) &&
      originAllowed(req.headers.origin, port) &&
      tokenMatches(requestToken(url, req.headers.cookie, port), token);
    if (!ok) {
      stats.refused++;
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const attach = (ws: WebSocket) => {
    stats.connections++;
    sockets.add(ws);
    const connection = openConnection({
      service: options.service,
      ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
      send: (message) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
        if (message.type === 'event') stats.sent++;
      },
    });
    connections.add(connection);
    // A protocol breach (a frame over maxPayload, text that is not UTF-8) arrives as 'error'; ws
    // closes that socket itself (1009, 1007). Unheard, the error would end the whole process.
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text only');
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString());
      } catch {
        return ws.close(1007, 'not JSON');
      }
      void connection.receive(parsed);
    });
    ws.on('close', () => {
      stats.coalesced += connection.stats.coalesced;
      connection.close();
      connections.delete(connection);
      sockets.delete(ws);
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    stats,
    close: () =>
      (closing ??= (async () => {
        for (const c of connections) c.close();
        // ws clients must be terminated first, or the server's close waits for them.
        for (const ws of sockets) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })()),
  };
}
