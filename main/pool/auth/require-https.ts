import { TetherError } from '../../../common/errors';

/**
 * A PIN, a password's NTLM response and a web ticket go only to an https URL (verified TLS).
 * The URLs come from mex documents and DHCP, so a wrong or hostile one is refused before any
 * secret is sent, with a typed error of the stage that would have sent it.
 */
export function requireHttps(url: string, code: 'WEBTICKET_NOT_HTTPS' | 'CERTPROV_NOT_HTTPS', what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new TetherError(code, `The ${what} address '${url.slice(0, 200)}' is not a valid URL.`, { detail: { what }, cause });
  }
  if (parsed.protocol !== 'https:') {
    throw new TetherError(code, `The ${what} address ${parsed.origin}${parsed.pathname} is not https; Tether sends credentials and tickets only over TLS.`, {
      detail: { what, url: `${parsed.origin}${parsed.pathname}` },
    });
  }
  return parsed;
}
