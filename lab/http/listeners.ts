import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TetherError } from '../../common/errors';
import type { LabFaults, LabTls } from '../context';
import { dispatch, type RouteTable } from './routes';
import { CERT_FAULTS } from './tls';
import { OPTIONAL_CLIENT_CERTIFICATE } from '../../common/pool/optional-client-certificate';

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

/** Answers every request through the route table, delaying it while 'slow-responses' is on. */
function requestHandler(routes: RouteTable, faults: LabFaults, host: string, log: (message: string) => void) {
  const pending = new Set<NodeJS.Timeout>();
  let closing = false;
  const handle = (secure: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    const hostHeader = req.headers.host ?? `${host}`;
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
  const stop = () => {
    closing = true;
    for (const t of pending) clearTimeout(t);
    pending.clear();
  };
  return { handle, stop };
}

/**
 * The lab's HTTP and HTTPS listeners on `host`. Both serve one route table; the HTTPS one presents
 * what LabTls says (certificate faults), and 'slow-responses' delays every answer by faults.slowMs.
 */
export async function startHttpListeners(options: LabHttpOptions): Promise<LabHttpListeners> {
  const { routes, faults, log } = options;
  const { handle, stop } = requestHandler(routes, faults, options.host, log);

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
      stop();
      detach();
      await Promise.all([closeServer(http), closeServer(https)]);
    },
  };
}

export interface LabHttpsOnlyOptions extends Omit<LabHttpOptions, 'httpPort' | 'httpsPort'> {
  port: number;
  /** Names the listener in logs and errors, e.g. 'external HTTPS'. */
  what: string;
  /**
   * Ask clients for a certificate and verify one against these CAs (req.socket.authorized says
   * whether it verified); a client without one still connects, so a handler can answer it.
   */
  clientCas?: readonly string[];
}

/**
 * One HTTPS-only listener (the lab's external view, lab/external): no plain-HTTP twin, so a plain
 * HTTP request on its port fails the TLS handshake and the connection is closed without an answer.
 */
export async function startHttpsOnlyListener(options: LabHttpsOnlyOptions): Promise<{ readonly port: number; close(): Promise<void> }> {
  const { handle, stop } = requestHandler(options.routes, options.faults, options.host, options.log);
  const clientAuth = options.clientCas ? { ...OPTIONAL_CLIENT_CERTIFICATE, ca: [...options.clientCas] } : {};
  const server = createHttpsServer({ ...options.tls.current(), ...clientAuth, keepAlive: true }, handle(true));
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // setSecureContext replaces the whole context: keep asking for (and trusting) client certificates.
  const renew = () => server.setSecureContext({ ...options.tls.current(), ...(options.clientCas ? { ca: [...options.clientCas] } : {}) });
  renew();
  const unsubscribe = options.faults.onChange((fault) => {
    if (CERT_FAULTS.has(fault)) renew();
  });
  server.on('tlsClientError', (err) => options.log(`${options.what}: TLS handshake failed: ${err.message}`));
  try {
    await listen(server, options.host, options.port, options.what);
  } catch (err) {
    unsubscribe();
    server.close();
    throw err;
  }
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      stop();
      unsubscribe();
      await closeServer(server);
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
