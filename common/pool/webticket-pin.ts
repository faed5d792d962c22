import { TetherError } from '../errors';
import type { XmlElement } from '../xml/element';
import { escapeXml } from '../xml/escape';
import { NS } from './soap-envelope';

/**
 * OUR MODEL of PIN authentication at the WebTicket service (docs/pool/webticket-pin.md).
 *
 * What is documented: the phone signs in with "the phone number and the PIN", the extension when
 * the number is ambiguous [S11]; the server's auth-type enum has `WebTicketServicePin` [S30]; a web
 * ticket is asked for with a WS-Trust RST to WebTicketService.svc [S28][S29].
 * What is NOT published [U]: how number and PIN travel. We carry them in a WS-Security
 * UsernameToken (OASIS UsernameToken Profile 1.0, PasswordText) in the RST's `wsse:Security`
 * header, POSTed over TLS to the port the WebTicket mex names `WebTicketServicePin`.
 *
 * Everything PIN-specific lives in this module so a real trace can replace it in one place.
 */

export const PIN_PORT_NAME = 'WebTicketServicePin';
/** Where the lab serves the PIN port, relative to WebTicketService.svc (OUR MODEL; mex names it). */
export const PIN_PORT_SUFFIX = '/WebTicketServicePin';
export const PASSWORD_TEXT =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

export interface PinCredentials {
  /** Phone number (E.164 or national digits, separators allowed) or extension. */
  readonly phoneOrExt: string;
  /** Digits only. Held as a string: JS strings cannot be wiped, so keep its lifetime short. */
  readonly pin: string;
}

/** Drops the separators people type (spaces, dashes, dots, parentheses); keeps a leading '+'. */
export function normalisePhoneOrExt(value: string): string {
  return value.trim().replace(/^tel:/i, '').replace(/[\s\-.()]/g, '');
}

/** Checks the shape of number/extension and PIN; never echoes the PIN. */
export function validatePinCredentials(creds: PinCredentials): PinCredentials {
  const phoneOrExt = normalisePhoneOrExt(creds.phoneOrExt);
  if (!/^\+?\d{1,20}$/.test(phoneOrExt)) {
    throw new TetherError('BAD_INPUT', 'The phone number or extension must be digits (a leading + is allowed).', {
      stage: 'auth',
      detail: { field: 'phoneOrExt' },
    });
  }
  // Lync PIN policy allows 4 to 24 digits (MinPasswordLength); anything else cannot succeed.
  if (!/^\d{4,24}$/.test(creds.pin)) {
    throw new TetherError('BAD_INPUT', 'The PIN must be 4 to 24 digits.', { stage: 'auth', detail: { field: 'pin' } });
  }
  return { phoneOrExt, pin: creds.pin };
}

/** The inner XML of `wsse:Security` for a PIN request (prefixes as buildEnvelope declares them). */
export function buildPinSecurity(creds: PinCredentials): string {
  const { phoneOrExt, pin } = validatePinCredentials(creds);
  return (
    `<wsse:UsernameToken wsu:Id="pin">` +
    `<wsse:Username>${escapeXml(phoneOrExt)}</wsse:Username>` +
    `<wsse:Password Type="${PASSWORD_TEXT}">${escapeXml(pin)}</wsse:Password>` +
    `</wsse:UsernameToken>`
  );
}

/**
 * Reads number/extension and PIN from a parsed `wsse:Security` element (lab side).
 * Returns undefined when there is no UsernameToken or it is not of our shape.
 */
export function readPinCredentials(security: XmlElement): PinCredentials | undefined {
  const token = security.child(NS.wsse, 'UsernameToken');
  if (!token) return undefined;
  const user = token.child(NS.wsse, 'Username')?.text.trim();
  const password = token.child(NS.wsse, 'Password');
  if (user === undefined || password === undefined) return undefined;
  const type = password.attr('Type');
  if (type !== undefined && type !== PASSWORD_TEXT) return undefined;
  return { phoneOrExt: normalisePhoneOrExt(user), pin: password.text.trim() };
}
