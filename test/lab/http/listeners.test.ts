import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { createPoolResolver } from '../../../main/pool/net/resolver';
import { tempDir } from '../support';
import { fakeTimeouts, untilTimerCount } from '../../support/fake-timers';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;

beforeAll(async () => {
  tmp = tempDir();
  lab = await startLab({ stateDir: tmp.dir, services: [], slowMs: 120 });
  const { routes } = lab.context;
  routes.add('GET', '/exact', (_req, res, info) => {
    res.end(`exact ${info.secure ? 'https' : 'http'}`);
  });
  routes.add('POST', '/exact', (_req, res) => {
    res.end('posted');
  });
  routes.add('GET', '/files/*', (_req, res, info) => {
    res.end(`prefix ${info.url.pathname}`);
  });
  routes.add('GET', '/files/special', (_req, res) => {
    res.end('special');
  });
  routes.add('GET', '/only-http', (_req, res) => {
    res.end('plain');
  }, { https: false });
  routes.add('GET', '/boom', () => {
    throw new Error('handler bug');
  });
});
afterAll(async () => {
  await lab?.stop();
  tmp.remove();
});

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  reused: boolean;
}

/** What the admin endpoint requires of every request (test/lab/admin-guard.test.ts checks each). */
const adminHeaders = () => ({ authorization: `Bearer ${lab.endpoints.adminToken}`, 'content-type': 'application/json' });

function http(method: string, path: string, body?: string, agent?: HttpAgent): Promise<Reply> {
  const headers = path.startsWith('/lab/') ? adminHeaders() : {};
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: lab.httpPort, method, path, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('lab HTTP route table', () => {
  it('routes exact and prefix paths, most specific first', async () => {
    expect(await http('GET', '/exact')).toMatchObject({ status: 200, body: 'exact http' });
    expect(await http('POST', '/exact')).toMatchObject({ status: 200, body: 'posted' });
    expect(await http('GET', '/files/a/b.cab?x=1')).toMatchObject({ status: 200, body: 'prefix /files/a/b.cab' });
    expect(await http('GET', '/files/special')).toMatchObject({ status: 200, body: 'special' });
    expect(await http('GET', '/files')).toMatchObject({ status: 200, body: 'prefix /files' });
    expect(await http('GET', '/filesystem')).toMatchObject({ status: 404 });
  });

  it('answers 404 for unknown paths and 405 with Allow for known paths with another method', async () => {
    expect(await http('GET', '/nothing')).toMatchObject({ status: 404 });
    const r = await http('PUT', '/exact', 'x');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD, POST');
    expect(await http('DELETE', '/files/x')).toMatchObject({ status: 405, headers: expect.objectContaining({ allow: 'GET, HEAD' }) });
    expect(await http('HEAD', '/exact')).toMatchObject({ status: 200, body: '' });
  });

  it('answers 500 when a handler throws, and keeps serving', async () => {
    expect(await http('GET', '/boom')).toMatchObject({ status: 500 });
    expect(await http('GET', '/exact')).toMatchObject({ status: 200 });
  });

  it('refuses a second route for the same method and path', () => {
    expect(() => lab.context.routes.add('GET', '/exact', () => undefined)).toThrow(/already taken/);
    expect(() => lab.context.routes.add('GET', 'relative', () => undefined)).toThrow(RangeError);
  });

  it('keeps connections alive between requests', async () => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await http('GET', '/exact', undefined, agent);
      const second = await http('GET', '/exact', undefined, agent);
      expect(first.reused).toBe(false);
      expect(second.reused).toBe(true);
      expect(second.headers.connection).toBe('keep-alive');
    } finally {
      agent.destroy();
    }
  });

  it("delays every answer by slowMs under 'slow-responses', but not the admin endpoint", async () => {
    // The delay is seen as a timer the lab sets and the test releases, never as elapsed time.
    const slowMs = 800;
    const faults = lab.context.faults;
    const previous = faults.slowMs;
    faults.slowMs = slowMs;
    fakeTimeouts();
    try {
      // Off: answered without a timer (a delayed answer would never come and the test time out).
      expect((await http('GET', '/exact')).status).toBe(200);
      expect(vi.getTimerCount()).toBe(0);
      faults.set('slow-responses', true);
      let answered = 0;
      const exact = http('GET', '/exact').finally(() => answered++);
      const nothing = http('GET', '/nothing').finally(() => answered++);
      await untilTimerCount(2);
      // The admin endpoint answers at once, while both others wait for their timers.
      expect((await http('GET', '/lab/faults')).status).toBe(200);
      expect(vi.getTimerCount()).toBe(2);
      vi.advanceTimersByTime(slowMs - 1);
      expect(vi.getTimerCount()).toBe(2);
      expect(answered).toBe(0);
      vi.advanceTimersByTime(1);
      expect(vi.getTimerCount()).toBe(0);
      expect(await exact).toMatchObject({ status: 200, body: 'exact http' });
      expect((await nothing).status).toBe(404);
    } finally {
      vi.useRealTimers();
      faults.set('slow-responses', false);
      faults.slowMs = previous;
    }
  });
});

describe('lab admin endpoint', () => {
  it('lists and switches faults, refusing unknown names and bad bodies without changing anything', async () => {
    expect(JSON.parse((await http('GET', '/lab/faults')).body)).toMatchObject({ faults: [], slowMs: 120 });
    const on = await http('POST', '/lab/faults', JSON.stringify({ fault: 'account-locked', on: true }));
    expect(JSON.parse(on.body).faults).toEqual(['account-locked']);
    expect(lab.context.faults.has('account-locked')).toBe(true);
    const bad = await http('POST', '/lab/faults', JSON.stringify({ faults: { 'account-locked': false, 'no-such': true } }));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/Unknown fault 'no-such'/);
    expect(lab.context.faults.has('account-locked')).toBe(true);
    expect((await http('POST', '/lab/faults', '{not json')).status).toBe(400);
    expect((await http('POST', '/lab/faults', '{}')).status).toBe(400);
    expect((await http('POST', '/lab/faults', JSON.stringify({ slowMs: -5 }))).status).toBe(400);
    expect((await http('POST', '/lab/faults', 'x'.repeat(20_000))).status).toBe(413);
    const off = await http('POST', '/lab/faults', JSON.stringify({ faults: { 'account-locked': false }, slowMs: 130 }));
    expect(JSON.parse(off.body)).toMatchObject({ faults: [], slowMs: 130 });
    lab.context.faults.slowMs = 120;
  });

  it('unlocks a locked user', async () => {
    const { users } = lab.context;
    const bob = users.bySipUri('sip:bob@contoso.test')!;
    for (let i = 0; i < users.lockoutThreshold; i++) users.checkPin(bob, 'wrong');
    expect(users.isLocked(bob)).toBe(true);
    const r = await http('POST', '/lab/users/unlock', JSON.stringify({ sipUri: 'sip:bob@contoso.test' }));
    expect(r.status).toBe(200);
    expect(users.isLocked(bob)).toBe(false);
    expect((await http('POST', '/lab/users/unlock', JSON.stringify({ sipUri: 'sip:zed@contoso.test' }))).status).toBe(404);
  });
});

/** A TLS handshake to `port` trusting only `ca`; resolves with the outcome's error code or 'ok'. */
function handshake(port: number, ca: string[], servername = 'pool01.contoso.test'): Promise<string> {
  return new Promise((resolve) => {
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, servername, ca });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('ok');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(err.code ?? err.message);
    });
  });
}

describe('lab HTTPS certificates and faults', () => {
  const withFault = async <T>(fault: 'server-cert-expired' | 'server-cert-wrong-name' | 'intermediate-missing', f: () => Promise<T>) => {
    lab.context.faults.set(fault, true);
    try {
      return await f();
    } finally {
      lab.context.faults.set(fault, false);
    }
  };

  it('presents leaf + intermediate, so a client trusting only the root verifies it', async () => {
    expect(await handshake(lab.httpsPort, [lab.ca.rootCertPem])).toBe('ok');
    const chain = await new Promise<string[]>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: lab.httpsPort, servername: 'pool01.contoso.test', ca: [lab.ca.rootCertPem] }, () => {
        const peer = s.getPeerCertificate(true);
        s.destroy();
        resolve([peer.subject.CN, peer.issuerCertificate.subject.CN, peer.issuerCertificate.issuerCertificate.subject.CN].map(String));
      });
      s.on('error', reject);
    });
    expect(chain[0]).toBe('pool01.contoso.test');
    expect(chain[1]).toMatch(/Issuing CA/);
    expect(chain[2]).toMatch(/Root CA/);
    // Every pool name and the listener's address are on the certificate.
    for (const name of ['ucupdates-r2.contoso.test', 'sipinternal.contoso.test', 'sip.contoso.test']) {
      expect(await handshake(lab.httpsPort, [lab.ca.rootCertPem], name), name).toBe('ok');
    }
  });

  it("'intermediate-missing' sends the leaf alone: root-only trust fails, root+intermediate works", async () => {
    await withFault('intermediate-missing', async () => {
      expect(await handshake(lab.httpsPort, [lab.ca.rootCertPem])).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect(await handshake(lab.httpsPort, [lab.ca.rootCertPem, lab.ca.intermediateCertPem])).toBe('ok');
    });
    expect(await handshake(lab.httpsPort, [lab.ca.rootCertPem])).toBe('ok');
  });

  it("'server-cert-expired' presents an expired certificate", async () => {
    await withFault('server-cert-expired', async () => {
      expect(await handshake(lab.httpsPort, [lab.ca.rootCertPem])).toBe('CERT_HAS_EXPIRED');
    });
  });

  it("'server-cert-wrong-name' presents a certificate for another host", async () => {
    await withFault('server-cert-wrong-name', async () => {
      expect(await handshake(lab.httpsPort, [lab.ca.rootCertPem])).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(await handshake(lab.httpsPort, [lab.ca.rootCertPem], 'www.fabrikam.test')).toBe('ok');
    });
  });

  it("follows the faults on a service's own TLS server through ctx.tls.attach", async () => {
    const server = createTlsServer(lab.context.tls.current(), (s) => s.end());
    const detach = lab.context.tls.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await handshake(port, [lab.ca.rootCertPem])).toBe('ok');
      await withFault('server-cert-expired', async () => {
        expect(await handshake(port, [lab.ca.rootCertPem])).toBe('CERT_HAS_EXPIRED');
      });
      expect(await handshake(port, [lab.ca.rootCertPem])).toBe('ok');
    } finally {
      detach();
      await new Promise((r) => server.close(r));
    }
  });

  it('serves HTTPS by the pool FQDN resolved through the lab DNS', async () => {
    lab.context.routes.add('GET', '/fqdn', (_req, res, info) => {
      res.end(info.url.host);
    });
    const resolver = createPoolResolver({ server: lab.dnsServer });
    const url = new URL('/fqdn', lab.context.httpsBase);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(url, { ca: [lab.ca.rootCertPem], lookup: resolver.lookup }, (res) => {
        let t = '';
        res.on('data', (d: Buffer) => (t += d.toString()));
        res.on('end', () => resolve(t));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe(url.host);
    expect(await http('GET', '/only-http')).toMatchObject({ status: 200 });
  });
});
