import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PoolHttpClient, type PoolHttpOptions } from '../../../../main/pool/net/http';
import { fakeResolver } from './fake-resolver';
import { ThrowawayCa, type TestCert } from '../../../support/throwaway-pki';
import { failureOf as failure } from '../../../support/failure';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const POOL = 'pool01.contoso.test';
let ca: ThrowawayCa;
let good: TestCert;
let expired: TestCert;
let wrongName: TestCert;
const servers: (http.Server | https.Server)[] = [];
const clients: PoolHttpClient[] = [];

beforeAll(() => {
  ca = new ThrowawayCa();
  good = ca.issue([POOL]);
  expired = ca.issue([POOL], { expired: true });
  wrongName = ca.issue(['other.contoso.test']);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

afterAll(() => undefined);

async function listen(server: http.Server | https.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function httpsServer(cert: TestCert, handler: Handler): Promise<number> {
  return listen(https.createServer({ cert: cert.certPem, key: cert.keyPem }, handler));
}

async function httpServer(handler: Handler): Promise<number> {
  return listen(http.createServer(handler));
}

function client(options: PoolHttpOptions = {}): PoolHttpClient {
  const c = new PoolHttpClient({ resolver: fakeResolver({ [POOL]: '127.0.0.1' }), extraCaPems: [ca.certPem], ...options });
  clients.push(c);
  return c;
}

const ok: Handler = (_req, res) => res.end('hello');

describe('PoolHttpClient TLS', () => {
  it('trusts an extra CA on top of the system roots and resolves through the PoolResolver', async () => {
    const port = await httpsServer(good, ok);
    const resolver = fakeResolver({ [POOL]: '127.0.0.1' });
    const c = client({ resolver });
    const res = await c.request({ url: `https://${POOL}:${port}/x`, stage: 'check-update' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    expect(resolver.asked).toContain(POOL);
  });

  it('rejects an unknown issuer when the CA is not given', async () => {
    const port = await httpsServer(good, ok);
    const c = client({ extraCaPems: [] });
    const e = await failure(c.request({ url: `https://${POOL}:${port}/`, stage: 'ca-chain' }));
    expect(e.code).toBe('TLS_CERT_UNTRUSTED');
    expect(e.stage).toBe('ca-chain');
  });

  it('trusts only the given roots when baseRoots replaces Node\'s store', async () => {
    const port = await httpsServer(good, ok);
    // The CA given as the only base root is trusted (so baseRoots is where the store comes from)…
    expect((await client({ extraCaPems: [], baseRoots: [ca.certPem] }).request({ url: `https://${POOL}:${port}/`, stage: 'auth' })).status).toBe(200);
    // …with no base roots and no extra CA nothing is; the extra CA alone is enough.
    const e = await failure(client({ extraCaPems: [], baseRoots: [] }).request({ url: `https://${POOL}:${port}/`, stage: 'auth' }));
    expect(e.code).toBe('TLS_CERT_UNTRUSTED');
    expect((await client({ baseRoots: [] }).request({ url: `https://${POOL}:${port}/`, stage: 'auth' })).status).toBe(200);
  });

  it('rejects an expired certificate with its own code', async () => {
    const port = await httpsServer(expired, ok);
    const e = await failure(client().request({ url: `https://${POOL}:${port}/`, stage: 'certificate' }));
    expect(e.code).toBe('TLS_CERT_EXPIRED');
    expect(e.stage).toBe('certificate');
  });

  it('rejects a certificate for another name with its own code', async () => {
    const port = await httpsServer(wrongName, ok);
    const e = await failure(client().request({ url: `https://${POOL}:${port}/`, stage: 'auth' }));
    expect(e.code).toBe('TLS_CERT_NAME_MISMATCH');
  });

  it('does not retry certificate failures even for GET', async () => {
    const port = await httpsServer(expired, ok);
    const delays: number[] = [];
    const c = client({ sleep: async (ms) => void delays.push(ms) });
    await failure(c.request({ url: `https://${POOL}:${port}/`, stage: 'auth' }));
    expect(delays).toEqual([]);
  });
});

describe('PoolHttpClient connection errors', () => {
  it('maps a name the resolver does not know to HTTP_DNS_FAILED', async () => {
    const e = await failure(client().request({ url: 'https://nowhere.contoso.test/', stage: 'find-update' }));
    expect(e.code).toBe('HTTP_DNS_FAILED');
    expect(e.stage).toBe('find-update');
  });

  it('maps a closed port to HTTP_CONNECT_REFUSED, retried for GET with backoff', async () => {
    const port = await httpServer(ok);
    const s = servers.pop()!;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const delays: number[] = [];
    const c = client({ sleep: async (ms) => void delays.push(ms) });
    const e = await failure(c.request({ url: `http://${POOL}:${port}/`, stage: 'check-update' }));
    expect(e.code).toBe('HTTP_CONNECT_REFUSED');
    expect(delays).toEqual([250, 500]);
  });

  it('rejects URLs that are not http(s)', async () => {
    expect((await failure(client().request({ url: 'ftp://x/', stage: 'auth' }))).code).toBe('HTTP_BAD_URL');
    expect((await failure(client().request({ url: 'not a url', stage: 'auth' }))).code).toBe('HTTP_BAD_URL');
  });

  it('maps a connection dropped mid-body to HTTP_CONNECT_FAILED', async () => {
    const port = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setImmediate(() => res.socket?.destroy());
    });
    const e = await failure(client({ retry: { attempts: 1 } }).request({ url: `http://${POOL}:${port}/`, stage: 'check-update' }));
    expect(e.code).toBe('HTTP_CONNECT_FAILED');
  });
});

describe('PoolHttpClient keep-alive', () => {
  it('reuses one socket per pool host for sequential requests', async () => {
    const sockets = new Set<Socket>();
    const port = await httpsServer(good, (req, res) => {
      sockets.add(req.socket);
      res.end('x');
    });
    const c = client();
    const a = await c.request({ url: `https://${POOL}:${port}/1`, stage: 'auth' });
    const b = await c.request({ url: `https://${POOL}:${port}/2`, method: 'POST', body: 'b', stage: 'auth' });
    expect(b.socketId).toBe(a.socketId);
    expect(b.reusedSocket).toBe(true);
    expect(sockets.size).toBe(1);
  });

  it('binds a session to one connection', async () => {
    const sockets = new Set<Socket>();
    const port = await httpServer((req, res) => {
      sockets.add(req.socket);
      res.end('x');
    });
    const session = client().session(`http://${POOL}:${port}/`);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await session.request({ url: `http://${POOL}:${port}/${i}`, stage: 'auth' })).socketId);
    session.close();
    expect(new Set(ids).size).toBe(1);
    expect(sockets.size).toBe(1);
  });
});

describe('PoolHttpClient retries', () => {
  function flaky(failures: number): { handler: Handler; calls: () => number } {
    let n = 0;
    return {
      handler: (_req, res) => {
        n++;
        if (n <= failures) {
          res.writeHead(503, { 'x-ms-diagnostics': '28000;source="pool01";reason="busy"' });
          res.end('busy');
        } else res.end('fine');
      },
      calls: () => n,
    };
  }

  it('retries GET on 5xx with exponential backoff and then succeeds', async () => {
    const f = flaky(2);
    const port = await httpServer(f.handler);
    const delays: number[] = [];
    const res = await client({ sleep: async (ms) => void delays.push(ms) }).request({ url: `http://${POOL}:${port}/`, stage: 'check-update' });
    expect(res.body.toString()).toBe('fine');
    expect(f.calls()).toBe(3);
    expect(delays).toEqual([250, 500]);
  });

  it('gives up after the configured attempts with HTTP_SERVER_ERROR carrying the status and diagnostics', async () => {
    const f = flaky(10);
    const port = await httpServer(f.handler);
    const delays: number[] = [];
    const c = client({ sleep: async (ms) => void delays.push(ms), retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 300 } });
    const e = await failure(c.request({ url: `http://${POOL}:${port}/`, stage: 'check-update' }));
    expect(e.code).toBe('HTTP_SERVER_ERROR');
    expect(e.detail).toMatchObject({ status: 503, msDiagnostics: '28000;source="pool01";reason="busy"' });
    expect(f.calls()).toBe(4);
    expect(delays).toEqual([100, 200, 300]);
  });

  it('never retries a POST unless marked idempotent', async () => {
    const f = flaky(10);
    const port = await httpServer(f.handler);
    const c = client({ sleep: async () => undefined });
    await failure(c.request({ url: `http://${POOL}:${port}/`, method: 'POST', body: '<x/>', stage: 'certificate' }));
    expect(f.calls()).toBe(1);
    await failure(c.request({ url: `http://${POOL}:${port}/`, method: 'POST', body: '<x/>', stage: 'certificate', idempotent: true }));
    expect(f.calls()).toBe(4);
  });

  it('returns a 500 SOAP fault when the caller accepts it', async () => {
    const port = await httpServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/xml' });
      res.end('<fault/>');
    });
    const res = await client().request({ url: `http://${POOL}:${port}/`, method: 'POST', stage: 'auth', acceptStatus: (s) => s < 600 });
    expect(res.status).toBe(500);
    expect(res.body.toString()).toBe('<fault/>');
  });
});

describe('PoolHttpClient timeouts and limits', () => {
  it('times out a connect that never completes (DNS included)', async () => {
    const c = client({ resolver: fakeResolver({}, { hang: true }), timeouts: { connectMs: 50 }, retry: { attempts: 1 } });
    const e = await failure(c.request({ url: `http://${POOL}:1/`, stage: 'find-update' }));
    // The resolver never answers: only the client's own 50 ms connect timer can end this request.
    expect(e.code).toBe('HTTP_TIMEOUT');
    expect(e.detail).toMatchObject({ phase: 'connect', timeoutMs: 50 });
  });

  it('times out a server that accepts and stays silent (idle)', async () => {
    const port = await httpServer(() => undefined);
    const c = client({ timeouts: { idleMs: 60 }, retry: { attempts: 1 } });
    const e = await failure(c.request({ url: `http://${POOL}:${port}/`, stage: 'check-update' }));
    expect(e.code).toBe('HTTP_TIMEOUT');
    expect(e.detail.phase).toBe('idle');
  });

  it('times out a body that trickles past the total limit', async () => {
    const port = await httpServer((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 10);
      res.on('close', () => clearInterval(timer));
    });
    const c = client({ timeouts: { idleMs: 5000, totalMs: 120 }, retry: { attempts: 1 } });
    const e = await failure(c.request({ url: `http://${POOL}:${port}/`, stage: 'check-update' }));
    expect(e.code).toBe('HTTP_TIMEOUT');
    expect(e.detail.phase).toBe('total');
  });

  it('refuses an answer whose declared length is over the limit without reading it', async () => {
    const port = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      res.write(Buffer.alloc(1024));
    });
    const e = await failure(client({ maxResponseBytes: 1024 * 1024 }).request({ url: `http://${POOL}:${port}/`, stage: 'auth' }));
    expect(e.code).toBe('HTTP_RESPONSE_TOO_LARGE');
  });

  it('refuses a chunked answer once it passes the limit', async () => {
    let sent = 0;
    const port = await httpServer((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = (): void => {
        while (sent < 50 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => (sent = Number.POSITIVE_INFINITY));
      pump();
    });
    const e = await failure(client({ maxResponseBytes: 1024 * 1024 }).request({ url: `http://${POOL}:${port}/`, stage: 'auth' }));
    expect(e.code).toBe('HTTP_RESPONSE_TOO_LARGE');
  });

  it('streams a download and enforces the limit while streaming', async () => {
    const port = await httpServer((req, res) => {
      const size = req.url === '/big' ? 3 * 1024 * 1024 : 1024 * 1024;
      res.writeHead(200);
      res.end(Buffer.alloc(size, 0x5a));
    });
    const c = client();
    const small = await c.stream({ url: `http://${POOL}:${port}/small`, stage: 'check-update', maxResponseBytes: 2 * 1024 * 1024 });
    let total = 0;
    for await (const chunk of small.body) total += chunk.length;
    expect(total).toBe(1024 * 1024);
    const big = await c.stream({ url: `http://${POOL}:${port}/big`, stage: 'check-update', maxResponseBytes: 2 * 1024 * 1024 });
    const e = await failure(
      (async () => {
        for await (const _chunk of big.body) void _chunk;
      })(),
    );
    expect(e.code).toBe('HTTP_RESPONSE_TOO_LARGE');
    expect(e.stage).toBe('check-update');
  });

  it('cancels through an AbortSignal', async () => {
    const port = await httpServer(() => undefined);
    const ac = new AbortController();
    const p = client().request({ url: `http://${POOL}:${port}/`, stage: 'auth', signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect((await failure(p)).code).toBe('CANCELLED');
  });
});

describe('PoolHttpClient stale keep-alive sockets', () => {
  it('retries a POST once, at once, when the server had closed the reused socket', async () => {
    const perSocket = new Map<Socket, number>();
    let answered = 0;
    const port = await httpServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n >= 2) {
        req.socket.destroy(); // as if the idle socket had been closed just before this request
        return;
      }
      answered++;
      res.end('ok');
    });
    const delays: number[] = [];
    const c = client({ sleep: async (ms) => void delays.push(ms) });
    const first = await c.request({ url: `http://${POOL}:${port}/`, method: 'POST', body: 'a', stage: 'certificate' });
    const second = await c.request({ url: `http://${POOL}:${port}/`, method: 'POST', body: 'b', stage: 'certificate' });
    expect(second.status).toBe(200);
    expect(second.socketId).not.toBe(first.socketId);
    expect(answered).toBe(2);
    expect(delays).toEqual([]);
  });

  it('does not retry a stale socket inside a connection-bound session call', async () => {
    const perSocket = new Map<Socket, number>();
    const port = await httpServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n >= 2) req.socket.destroy();
      else res.end('ok');
    });
    const session = client().session(`http://${POOL}:${port}/`);
    await session.request({ url: `http://${POOL}:${port}/`, stage: 'auth', noRetry: true });
    const e = await failure(session.request({ url: `http://${POOL}:${port}/`, stage: 'auth', noRetry: true }));
    session.close();
    expect(e.code).toBe('HTTP_CONNECT_FAILED');
  });
});
