import type { Protocol } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import type { StaticFile } from '../../../main/bridge/static-files';
import { serveApp } from '../../../main/app/protocol';

vi.mock('electron', () => ({}));

const file = (text: string, type: string): StaticFile => ({ body: Buffer.from(text), type });
const FILES = new Map([
  ['/index.html', file('<meta name="tether-nonce" content="__TETHER_NONCE__">', 'text/html; charset=utf-8')],
  ['/assets/app.js', file('console.log(1)', 'text/javascript; charset=utf-8')],
]);

function served() {
  let handler: ((r: Request) => Response | Promise<Response>) | undefined;
  const protocol = { handle: (_scheme: string, h: typeof handler) => (handler = h) } as unknown as Protocol;
  serveApp(protocol, FILES);
  return (url: string, method = 'GET') => Promise.resolve(handler!(new Request(url, { method })));
}

describe('app://tether', () => {
  it('serves the page with the CSP header and a fresh nonce per load, matching the page', async () => {
    const get = served();
    const a = await get('app://tether/');
    const b = await get('app://tether/index.html');
    const csp = a.headers.get('content-security-policy')!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(await a.text()).toContain(`content="${nonce}"`);
    expect(await b.text()).not.toContain(nonce);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe');
  });

  it('answers only for its own files, its own host, and GET', async () => {
    const get = served();
    expect((await get('app://tether/assets/app.js')).status).toBe(200);
    expect((await get('app://tether/../../etc/passwd')).status).toBe(404);
    expect((await get('app://tether/missing.js')).status).toBe(404);
    expect((await get('app://other/index.html')).status).toBe(403);
    expect((await get('app://tether/index.html', 'POST')).status).toBe(403);
  });
});
