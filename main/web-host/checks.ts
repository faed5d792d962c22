import { timingSafeEqual } from 'node:crypto';

/**
 * The browser host's gatekeeping, request by request. The host listens on 127.0.0.1 only, but a
 * web page in any browser tab can still reach 127.0.0.1, so each request must also prove it
 * comes from the page Tether printed: the `Host` header must name the loopback address and port
 * (a DNS-rebinding page sends its own name), a WebSocket's `Origin` must be that same origin (a
 * foreign page sends its own), and the per-run token must match (from the printed URL, then from
 * the HttpOnly, SameSite=Strict cookie the first page load sets).
 */

export const COOKIE = 'tether_token';

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

/** The token cookie's value from a Cookie header (the last one wins, as browsers send most specific first). */
export function cookieToken(header: string | undefined): string | null {
  if (!header) return null;
  let found: string | null = null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE && found === null) found = part.slice(eq + 1).trim();
  }
  return found;
}

/** The token a request carries: ?token= on the URL or the cookie. */
export function requestToken(url: URL, cookieHeader: string | undefined): string | null {
  return url.searchParams.get('token') ?? cookieToken(cookieHeader);
}
