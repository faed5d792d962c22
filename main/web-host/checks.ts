import { timingSafeEqual } from 'node:crypto';

/**
 * The browser host's gatekeeping, request by request. The host listens on 127.0.0.1 only, but a
 * web page in any browser tab can still reach 127.0.0.1, so each request must also prove it
 * comes from the page Tether printed: the `Host` header must name the loopback address and port
 * (a DNS-rebinding page sends its own name), a WebSocket's `Origin` must be that same origin (a
 * foreign page sends its own), and the per-run token must match (from the printed URL, then from
 * the HttpOnly, SameSite=Strict cookie the first page load sets).
 */

/**
 * The token cookie's name, one per port: cookies are not kept apart by port, so with one name for
 * all, a second host's page load would overwrite the first one's token (its tab then gets 403 on
 * reload) and each host would be sent the other's token.
 */
export function cookieName(port: number): string {
  return `tether_token_${port}`;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost'];

export function hostAllowed(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return LOOPBACK_NAMES.some((name) => host.toLowerCase() === `${name}:${port}`);
}

export function originAllowed(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return false;
  return LOOPBACK_NAMES.some((name) => origin.toLowerCase() === `http://${name}:${port}`);
}

export function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The named cookie's value from a Cookie header (the first one, as browsers send the most specific path first). */
export function cookieToken(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The token a request carries: ?token= on the URL or this port's cookie. */
export function requestToken(url: URL, cookieHeader: string | undefined, port: number): string | null {
  return url.searchParams.get('token') ?? cookieToken(cookieHeader, cookieName(port));
}
