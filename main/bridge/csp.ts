import { randomBytes } from 'node:crypto';

/**
 * The window's Content-Security-Policy, the same for Electron (app://tether) and the browser
 * host: scripts only from the app's own files, styles from its files or a <style> carrying this
 * load's nonce (Fluent UI's Griffel inserts its rules at run time and is given the nonce), no
 * inline script, no eval, no plugins, no framing, and connections only back to where the page came
 * from (`connect` adds the browser host's WebSocket).
 */
export function contentSecurityPolicy(nonce: string, connect: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${connect.map((c) => ' ' + c).join('')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

/** The nonce placeholder the renderer's index.html carries (a meta tag Griffel's renderer reads). */
export const NONCE_PLACEHOLDER = '__TETHER_NONCE__';

/** index.html with this load's nonce in place of the placeholder. */
export function withNonce(html: string, nonce: string): string {
  return html.split(NONCE_PLACEHOLDER).join(nonce);
}
