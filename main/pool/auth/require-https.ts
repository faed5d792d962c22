import { isIP } from 'node:net';
import { TetherError } from '../../../common/errors';

export type NotHttpsCode = 'WEBTICKET_NOT_HTTPS' | 'CERTPROV_NOT_HTTPS' | 'NTLM_NOT_HTTPS';

export interface RequireHttpsOptions {
  /**
   * Lets plain `http:` through when the host is an IP-literal loopback address (a lab on this PC).
   * Only a literal counts: a name could resolve anywhere. Only for an explicit, loudly named flag.
   */
  readonly allowPlainHttpOnLoopback?: boolean;
}

/** A URL's hostname that is 127.0.0.0/8 or ::1 written as an address (URL has already normalised it: `[::1]`). */
export function isLoopbackLiteral(hostname: string): boolean {
  if (hostname === '[::1]') return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

/**
 * A PIN, a password's NTLM response and a web ticket go only to an https URL (verified TLS).
 * The URLs come from mex documents and DHCP, so a wrong or hostile one is refused before any
 * secret is sent, with a typed error of the stage that would have sent it.
 */
export function requireHttps(url: string, code: NotHttpsCode, what: string, options: RequireHttpsOptions = {}): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new TetherError(code, `The ${what} address '${url.slice(0, 200)}' is not a valid URL.`, { detail: { what }, cause });
  }
  const loopbackAllowed = options.allowPlainHttpOnLoopback === true && parsed.protocol === 'http:' && isLoopbackLiteral(parsed.hostname);
  if (parsed.protocol !== 'https:' && !loopbackAllowed) {
    throw new TetherError(code, `The ${what} address ${parsed.origin}${parsed.pathname} is not https; Tether sends credentials and tickets only over TLS.`, {
      detail: { what, url: `${parsed.origin}${parsed.pathname}` },
    });
  }
  return parsed;
}
