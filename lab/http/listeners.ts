import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TetherError } from '../../common/errors';
import type { LabFaults, LabTls } from '../context';
import { dispatch, type RouteTable } from './routes';

export interface LabHttpOptions {
  host: string;
  httpPort: number;
  httpsPort: number;
  routes: RouteTable;
  faults: LabFaults;
  tls: LabTls;
  log: (message: string) => void;
}

export interface LabHttpListeners {
  readonly httpPort: number;
  readonly httpsPort: number;
  close(): Promise<void>;
}

/** Idle keep-alive connections stay open this long (Node's default of 5 s is tight for a slow lab). */
const KEEP_ALIVE_MS = 30_000;

/**
 * The lab's HTTP and HTTPS listeners on `host`. Both serve one route table; the HTTPS one presents
 * what LabTls says (certificate faults), and 'slow-responses' delays every answer by faults.slowMs.
 */
export async function startHttpListeners(options: LabHttpOptions): Promise<LabHttpListeners> {
  const { routes, faults, log } = options;
  const pending = new Set<NodeJS.Timeout>();
  let closing = false;

  const handle = (secure: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    const hostHeader = req.headers.host ?? `${options.host}`;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `${secure ? 'https' : 'http'}://${hostHeader}`);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Bad Request\n');
      return;
    }
    const go = () => void dispatch(routes, req, res, { secure, url }, log);
    if (faults.has('slow-responses') && faults.slowMs > 0 && !url.pathname.startsWith('/lab/')) {
      const t = setTimeout(() => {
        pending.delete(t);
        if (!closing) go();
      }, faults.slowMs);
      pending.add(t);
      res.on('close', () => {
        clearTimeout(t);
        pending.delete(t);
      });
    } else {
      go();
    }
  };

  const http = createHttpServer({ keepAlive: true, keepAliveTimeout: KEEP_ALIVE_MS }, handle(false));
  http.keepAliveTimeout = KEEP_ALIVE_MS;
  const https = createHttpsServer({ ...options.tls.current(), keepAlive: true }, handle(true));
  https.keepAliveTimeout = KEEP_ALIVE_MS;
  const detach = options.tls.attach(https);
  https.on('tlsClientError', (err) => log(`https: TLS handshake failed: ${err.message}`));

  try {
    await listen(http, options.host, options.httpPort, 'HTTP');
    await listen(https, options.host, options.httpsPort, 'HTTPS');
  } catch (err) {
    detach();
    http.close();
    https.close();
    throw err;
  }
  return {
    httpPort: (http.address() as AddressInfo).port,
    httpsPort: (https.address() as AddressInfo).port,
    async close() {
      closing = true;
      detach();
      for (const t of pending) clearTimeout(t);
      pending.clear();
      await Promise.all([closeServer(http), closeServer(https)]);
    },
  };
}

function listen(server: Server, host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new TetherError('LAB_LISTEN_FAILED', `The lab's ${what} listener cannot use ${host}:${port} (${err.code ?? err.message}).`, {
          detail: { host, port, listener: what },
          cause: err,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive sockets would hold close() open; the lab is stopping, so drop them.
    server.closeAllConnections();
  });
}
