import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLab, type LabHandle } from '../../lab';
import { RouteTable } from '../../lab/http/routes';
import { informBytes, rawClient } from './dhcp/support';
import { tempDir } from './support';

/**
 * Every listener of a full lab (all services) against hostile input: a malformed request gets an
 * error answer or is dropped, and the lab keeps serving. Then stop() must leave nothing open.
 */

type Route = { method: string; path: string; http: boolean; https: boolean };

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
const routes: Route[] = [];
let before: Map<string, number>;
const logs: string[] = [];

function countResources(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

beforeAll(async () => {
  tmp = tempDir();
  before = countResources();
  // Record every route the services add, so each one is tried (a route added later is covered too).
  const add = RouteTable.prototype.add;
  const spy = vi.spyOn(RouteTable.prototype, 'add').mockImplementation(function (this: RouteTable, method, path, handler, on = {}) {
    routes.push({ method, path: path.endsWith('/*') ? `${path.slice(0, -1)}a/b/c` : path, http: on.http ?? true, https: on.https ?? true });
    add.call(this, method, path, handler, on);
  });
  try {
    lab = await startLab({ stateDir: join(tmp.dir, 'lab'), log: (m) => logs.push(m) });
  } finally {
    spy.mockRestore();
  }
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

/** One HTTP(S) request with a raw body; resolves with the status, or 'dropped' when the lab closed it. */
function send(secure: boolean, method: string, path: string, body: Buffer | null, abortAfter?: number): Promise<number | 'dropped'> {
  return new Promise((resolve) => {
    const port = secure ? lab.httpsPort : lab.httpPort;
    const options = {
      host: '127.0.0.1',
      port,
      method,
      path,
      servername: lab.context.poolFqdn,
      ca: lab.context.ca.chainPems(),
      agent: false as const,
      headers: {
        Host: `${lab.context.poolFqdn}:${port}`,
        'Content-Type': 'text/xml; charset=utf-8',
        ...(body ? { 'Content-Length': String(abortAfter === undefined ? body.length : body.length + 1000) } : {}),
      },
    };
    const req = (secure ? httpsRequest : httpRequest)(options, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve('dropped'));
    });
    req.on('error', () => resolve('dropped'));
    if (body && abortAfter !== undefined) {
      req.write(body.subarray(0, abortAfter));
      setImmediate(() => {
        req.destroy();
        resolve('dropped');
      });
      return;
    }
    req.end(body ?? undefined);
  });
}

/** Raw bytes to a TCP port; resolves with what came back before the lab closed (or we gave up). */
function rawTcp(port: number, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    s.on('connect', () => s.end(bytes));
  });
}

const HOSTILE_BODIES: Buffer[] = [
  Buffer.alloc(0),
  Buffer.from('not xml at all'),
  Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><x>&b;</x>'),
  Buffer.from('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><'),
  Buffer.from('{"fault":'),
  Buffer.from('{"fault":"srv-missing","on":"yes"}'),
  Buffer.from('{"sipUri":{"toString":1}}'),
  Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 151 + 7) & 0xff)),
  Buffer.alloc(2 * 1024 * 1024, 0x41), // larger than any lab body limit
];

describe('the lab under hostile input', () => {
  it('found the routes of every service', () => {
    const paths = routes.map((r) => r.path);
    expect(paths).toContain('/lab/faults');
    expect(paths.some((p) => p.startsWith('/CertProv/'))).toBe(true);
    expect(paths.some((p) => p.includes('ucdevice.upx'))).toBe(true);
    expect(paths.some((p) => p.startsWith('/WebTicket/'))).toBe(true);
  });

  it('answers every route with an error status or drops the request, for every hostile body, and aborts', async () => {
    const faultsBefore = lab.context.faults.list();
    for (const route of routes) {
      for (const secure of [false, true]) {
        if (secure ? !route.https : !route.http) continue;
        for (const method of [route.method, 'POST', 'PUT', 'DELETE']) {
          for (const body of HOSTILE_BODIES) {
            const status = await send(secure, method, route.path, body);
            if (status !== 'dropped') expect(status, `${method} ${route.path}`).toBeGreaterThanOrEqual(100);
            if (status === 200) expect(route.path).not.toMatch(/^\/lab\/users/); // nobody is unlocked by garbage
          }
          expect(await send(secure, method, route.path, Buffer.from('<x>abcdef</x>'), 4)).toBe('dropped');
        }
      }
    }
    // Garbage switched no fault.
    expect(lab.context.faults.list()).toEqual(faultsBefore);
  }, 120_000);

  it('answers bad URLs and bad HTTP with 4xx, and bytes that are not TLS with a closed connection', async () => {
    expect(await send(false, 'GET', '/RequestHandler/Files/%zz%', null)).toBe(400);
    expect(await send(false, 'GET', `/${'a'.repeat(20_000)}`, null)).toBeGreaterThanOrEqual(400);
    expect(await rawTcp(lab.httpPort, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawTcp(lab.httpPort, 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawTcp(lab.httpPort, 'GET http://[::1/ HTTP/1.1\r\nHost: [\r\n\r\n')).toMatch(/^HTTP\/1\.1 4\d\d/);
    expect(await rawTcp(lab.httpsPort, 'GET / HTTP/1.1\r\n\r\n')).not.toMatch(/^HTTP/);
    expect(await rawTcp(Number(lab.endpoints.registrarPort), 'REGISTER sip:x SIP/2.0\r\n\r\n')).toBe('');
  });

  it('drops garbage on DNS (UDP and TCP) and DHCP, and still answers real queries', async () => {
    const udp = createSocket('udp4');
    const junk = [Buffer.alloc(0), Buffer.from([1]), Buffer.alloc(12, 0xff), Buffer.from(Array.from({ length: 600 }, (_, i) => i & 0xff))];
    for (const j of junk) {
      await new Promise<void>((r) => udp.send(j, lab.dnsPort, '127.0.0.1', () => r()));
      await new Promise<void>((r) => udp.send(j, Number(String(lab.endpoints.dhcp).split(':')[1]), '127.0.0.1', () => r()));
    }
    udp.close();
    // TCP: a frame of garbage, a frame that claims more than it sends, then hang-up.
    await rawTcp(lab.dnsPort, Buffer.concat([Buffer.from([0, 5, 1, 2, 3, 4, 5]), Buffer.from([0xff, 0xff, 1])]));
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([lab.dnsServer]);
    expect(await resolver.resolve4(lab.context.poolFqdn)).toEqual(['127.0.0.1']);
    const [host, port] = String(lab.endpoints.dhcp).split(':');
    const client = await rawClient({ host: host!, port: Number(port) });
    try {
      client.send(informBytes(4242));
      expect((await client.untilXid(4242)).xid).toBe(4242);
    } finally {
      client.close();
    }
  });

  it('still serves HTTP, HTTPS and SIP/TLS afterwards', async () => {
    // The admin endpoint still answers: 403, as this request names the pool, not the lab's own address.
    expect(await send(false, 'GET', '/lab/faults', null)).toBe(403);
    expect(await send(true, 'GET', '/no-such-path', null)).toBe(404);
    await new Promise<void>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: Number(lab.endpoints.registrarPort), servername: lab.context.poolFqdn, ca: lab.context.ca.chainPems() });
      s.once('secureConnect', () => {
        s.end();
        resolve();
      });
      s.once('error', reject);
    });
  });

  it('leaves no sockets, servers or timers behind after stop(), even with delayed answers pending', async () => {
    // Answers held back by slow-responses (HTTP and SIP) must not keep timers alive past stop().
    lab.context.faults.slowMs = 600_000;
    lab.context.faults.set('slow-responses', true);
    const pendingHttp = send(false, 'GET', '/no-such-path', null);
    const sip = tlsConnect({ host: '127.0.0.1', port: Number(lab.endpoints.registrarPort), servername: lab.context.poolFqdn, ca: lab.context.ca.chainPems() });
    sip.on('error', () => undefined);
    const sipClosed = new Promise<void>((r) => sip.once('close', () => r()));
    await new Promise<void>((r) => sip.once('secureConnect', () => r()));
    const served = new Promise<void>((r) => {
      const seen = () => logs.some((l) => l.startsWith('registrar: OPTIONS'));
      const poll = () => (seen() ? r() : setImmediate(poll));
      poll();
    });
    sip.write(`OPTIONS sip:${lab.context.poolFqdn} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5555;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    await served; // the registrar has the request and holds its answer back
    await lab.stop();
    expect(await pendingHttp).toBe('dropped');
    await sipClosed;
    // Closed handles leave the list on the next turns of the loop.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    const after = countResources();
    const leaked = [...after].filter(([type, n]) => n > (before.get(type) ?? 0));
    expect(leaked, JSON.stringify([...after])).toEqual([]);
  });
});
