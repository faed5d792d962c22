import type { Protocol } from 'electron';
import { contentSecurityPolicy, newNonce, withNonce } from '../bridge/csp';
import type { StaticFile } from '../bridge/static-files';
import { isAppUrl } from './ipc';

export { isAppUrl };

/**
 * The window's page comes from app://tether/, served from the built renderer held in memory (no
 * file:// page, which would share an origin with every local file), with the CSP as a response
 * header and a fresh style nonce on every load of index.html.
 */

export const APP_SCHEME = 'app';

/** Must run before the app is ready. */
export function registerAppScheme(protocol: Protocol): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);
}

export function serveApp(protocol: Protocol, files: ReadonlyMap<string, StaticFile>): void {
  const index = files.get('/index.html')!.body.toString('utf8');
  protocol.handle(APP_SCHEME, (request) => {
    const url = new URL(request.url);
    if (!isAppUrl(request.url) || request.method !== 'GET') return new Response(null, { status: 403 });
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    const file = files.get(path);
    if (!file) return new Response(null, { status: 404 });
    const headers: Record<string, string> = { 'Content-Type': file.type, 'X-Content-Type-Options': 'nosniff' };
    if (path === '/index.html') {
      const nonce = newNonce();
      headers['Content-Security-Policy'] = contentSecurityPolicy(nonce);
      return new Response(withNonce(index, nonce), { headers });
    }
    return new Response(new Uint8Array(file.body), { headers });
  });
}
