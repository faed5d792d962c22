import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWebHost, type WebHost } from '../../../main/web-host/server';
import { recordingService, type RecordingService } from '../../support/recording-service';

const INDEX = '<!doctype html><meta name="tether-nonce" content="__TETHER_NONCE__"><script type="module" src="./assets/app.js"></script>';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket; resolves with the socket once open, or with the HTTP status it was refused with. */
function openSocket(port: number, headers: Record<string, string>, path = '/ws'): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

describe('the loopback browser host', () => {
  let dir: string;
  let host: WebHost;
  let service: RecordingService;
  let origin: string;
  let cookie: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tether-web-host-'));
    await writeFile(join(dir, 'index.html'), INDEX);
    service = recordingService({ listPhones: () => [] });
    host = await startWebHost({ service, rendererDir: dir });
    origin = `http://127.0.0.1:${host.port}`;
    cookie = `tether_token_${host.port}=${host.token}`;
  });
  afterEach(async () => {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and prints a URL with its token', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`);
    expect(host.token.length).toBeGreaterThanOrEqual(40);
  });

  it('serves the page with the token: a fresh nonce in the CSP and the page, and an HttpOnly SameSite cookie', async () => {
    const a = await get(host.port, `/?token=${host.token}`);
    const b = await get(host.port, `/?token=${host.token}`);
    expect(a.status).toBe(200);
    const nonce = /'nonce-([^']+)'/.exec(String(a.headers['content-security-policy']))![1]!;
    expect(a.body).toContain(`content="${nonce}"`);
    expect(b.body).not.toContain(`content="${nonce}"`);
    expect(String(a.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(String(a.headers['content-security-policy'])).not.toContain('unsafe-inline');
    expect(String(a.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('gives nothing without the token, with a wrong one, or to another Host name (DNS rebinding)', async () => {
    expect((await get(host.port, '/')).status).toBe(403);
    expect((await get(host.port, '/?token=wrong')).status).toBe(403);
    expect((await get(host.port, `/?token=${host.token.slice(0, -1)}x`)).status).toBe(403);
    const rebound = await get(host.port, `/?token=${host.token}`, { host: `evil.example:${host.port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toBe('');
    expect((await get(host.port, '/', { cookie })).status).toBe(200);
  });

  it('answers only for the built files, nothing else on disk', async () => {
    expect((await get(host.port, '/../../etc/passwd', { cookie })).status).toBe(404);
    expect((await get(host.port, '/%2e%2e/%2e%2e/etc/passwd', { cookie })).status).toBe(404);
  });

  it('refuses a WebSocket from a foreign Origin, with no Origin, or without the token', async () => {
    expect(await openSocket(host.port, { cookie, origin: 'http://evil.example' })).toBe(403);
    expect(await openSocket(host.port, { cookie, origin: `http://127.0.0.1:${host.port + 1}` })).toBe(403);
    expect(await openSocket(host.port, { cookie })).toBe(403);
    expect(await openSocket(host.port, { origin, cookie: `tether_token_${host.port}=nope` })).toBe(403);
    expect(service.calls).toEqual([]);
    expect(host.stats.refused).toBe(4);
  });

  it('carries the contract over the WebSocket for the page it served', async () => {
    const ws = (await openSocket(host.port, { origin, cookie })) as WebSocket;
    const answer = new Promise<unknown>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    ws.send(JSON.stringify({ type: 'call', id: 1, name: 'listPhones', args: {} }));
    expect(await answer).toEqual({ type: 'result', id: 1, ok: true, value: [] });
    const event = new Promise<unknown>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    service.emit('phones', []);
    expect(await event).toEqual({ type: 'event', event: 'phones', payload: [] });
    ws.terminate();
  });

  it('closes a socket that sends something other than JSON', async () => {
    const ws = (await openSocket(host.port, { origin, cookie })) as WebSocket;
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('not json');
    expect(await closed).toBe(1007);
  });

  // ws reports a protocol breach (a frame over maxPayload, text that is not UTF-8) as an 'error'
  // event on the socket; with no listener that was an uncaught exception ending Tether mid-sign-in.
  it.each([
    ['a message over the size limit', (ws: WebSocket) => ws.send('x'.repeat(64 * 1024)), 1009],
    ['a text frame that is not UTF-8', (ws: WebSocket) => ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false }), 1007],
  ] as const)('closes a socket that sends %s and keeps serving the others', async (_what, send, code) => {
    const bad = (await openSocket(host.port, { origin, cookie })) as WebSocket;
    const closed = new Promise<number>((resolve) => bad.once('close', (c) => resolve(c)));
    bad.on('error', () => undefined);
    send(bad);
    expect(await closed).toBe(code);
    const ws = (await openSocket(host.port, { origin, cookie })) as WebSocket;
    const answer = new Promise<unknown>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    ws.send(JSON.stringify({ type: 'call', id: 2, name: 'listPhones', args: {} }));
    expect(await answer).toEqual({ type: 'result', id: 2, ok: true, value: [] });
    ws.terminate();
  });

  // Cookies are shared by every port of 127.0.0.1: one name for all let a second host's page load
  // overwrite the first's token.
  it('names its cookie after its port, so two hosts on this computer keep their own tokens', async () => {
    const other = await startWebHost({ service: recordingService({ listPhones: () => [] }), rendererDir: dir });
    try {
      const mine = await get(host.port, `/?token=${host.token}`);
      const theirs = await get(other.port, `/?token=${other.token}`);
      const name = (a: Answer) => String(a.headers['set-cookie']).split('=')[0];
      expect(name(mine)).toBe(`tether_token_${host.port}`);
      expect(name(theirs)).toBe(`tether_token_${other.port}`);
      // The browser sends both hosts' cookies to each: each takes only its own.
      const both = `tether_token_${other.port}=${other.token}; tether_token_${host.port}=${host.token}`;
      expect((await get(host.port, '/', { cookie: both })).status).toBe(200);
      expect((await get(other.port, '/', { cookie: both })).status).toBe(200);
      expect((await get(host.port, '/', { cookie: `tether_token_${other.port}=${other.token}` })).status).toBe(403);
      expect(await openSocket(host.port, { origin, cookie: `tether_token_${other.port}=${other.token}` })).toBe(403);
    } finally {
      await other.close();
    }
  });
});
