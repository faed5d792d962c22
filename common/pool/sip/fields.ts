import { TetherError } from '../../errors';
import { splitOutsideQuotes as splitQuoted } from '../quoted-split';

/**
 * Readers for the structured SIP header values the registrar exchange needs: name-addr
 * (From/To/Contact), authentication challenges (WWW-Authenticate), and SIP URIs. Anything that
 * does not fit is a typed SIP_MESSAGE_MALFORMED error naming the header.
 */

function malformed(what: string, value: string): TetherError {
  return new TetherError('SIP_MESSAGE_MALFORMED', `Cannot read ${what}: '${value.slice(0, 120)}'.`, {
    detail: { reason: 'bad-field', field: what },
  });
}

export interface NameAddr {
  readonly display: string;
  readonly uri: string;
  /** Header parameters after the address (`tag`, `epid`, `expires`, …), names lower-cased. */
  readonly params: Readonly<Record<string, string>>;
}

/** Reads `"Display" <uri>;p=v` or `uri;p=v` (RFC 3261 §20.10). */
export function parseNameAddr(value: string, what = 'address'): NameAddr {
  let rest = value.trim();
  let display = '';
  let uri: string;
  if (rest.startsWith('"')) {
    const [text, after] = readQuoted(rest, what);
    display = text;
    rest = after.trimStart();
  }
  const lt = rest.indexOf('<');
  if (lt >= 0) {
    if (display === '') display = rest.slice(0, lt).trim();
    const gt = rest.indexOf('>', lt);
    if (gt < 0) throw malformed(what, value);
    uri = rest.slice(lt + 1, gt).trim();
    rest = rest.slice(gt + 1);
  } else {
    if (display !== '') throw malformed(what, value);
    const semi = rest.indexOf(';');
    uri = (semi < 0 ? rest : rest.slice(0, semi)).trim();
    rest = semi < 0 ? '' : rest.slice(semi);
  }
  if (!/^[A-Za-z][A-Za-z0-9+\-.]*:\S+$/.test(uri)) throw malformed(what, value);
  return { display, uri, params: parseParams(rest, what, value) };
}

function parseParams(rest: string, what: string, whole: string): Record<string, string> {
  const params: Record<string, string> = {};
  const trimmed = rest.trim();
  if (trimmed === '') return params;
  if (!trimmed.startsWith(';')) throw malformed(what, whole);
  for (const part of splitOutsideQuotes(trimmed.slice(1), ';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!/^[a-z0-9\-.!%*_+`'~]+$/.test(name)) throw malformed(what, whole);
    let v = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (v.startsWith('"')) v = readQuoted(v, what)[0];
    params[name] = v;
  }
  return params;
}

/** Reads a quoted-string at the start of `s`; returns its text and what follows. */
function readQuoted(s: string, what: string): [string, string] {
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      if (i + 1 >= s.length) break;
      out += s[++i];
    } else if (c === '"') {
      return [out, s.slice(i + 1)];
    } else out += c;
  }
  throw malformed(what, s);
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const { parts, unterminated } = splitQuoted(s, sep);
  if (unterminated) throw new TetherError('SIP_MESSAGE_MALFORMED', 'Unterminated quoted string in a SIP header.', { detail: { reason: 'bad-field' } });
  return parts;
}

export interface AuthChallenge {
  /** e.g. `TLS-DSK`, `NTLM`, `Kerberos` (as sent). */
  readonly scheme: string;
  /** auth-params, names lower-cased, quoted values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

/** Reads one `WWW-Authenticate` value: `Scheme p1="v1", p2=v2` (RFC 3261 §25.1 challenge). */
export function parseAuthChallenge(value: string): AuthChallenge {
  const m = /^\s*([A-Za-z0-9\-.!%*_+`'~]+)(?:\s+(.*))?$/s.exec(value);
  if (!m) throw malformed('WWW-Authenticate', value);
  const params: Record<string, string> = {};
  const rest = (m[2] ?? '').trim();
  if (rest !== '') {
    for (const part of splitOutsideQuotes(rest, ',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw malformed('WWW-Authenticate', value);
      const name = part.slice(0, eq).trim().toLowerCase();
      if (!/^[a-z0-9\-.!%*_+`'~]+$/.test(name)) throw malformed('WWW-Authenticate', value);
      const raw = part.slice(eq + 1).trim();
      if (raw.startsWith('"')) {
        const [text, after] = readQuoted(raw, 'WWW-Authenticate');
        if (after.trim() !== '') throw malformed('WWW-Authenticate', value);
        params[name] = text;
      } else {
        if (!/^[^\s"]*$/.test(raw)) throw malformed('WWW-Authenticate', value);
        params[name] = raw;
      }
    }
  }
  return { scheme: m[1]!, params };
}

/** Writes a challenge with every parameter quoted except `version` (as MS-SIPAE shows it [S31]). */
export function formatAuthChallenge(challenge: AuthChallenge): string {
  const params = Object.entries(challenge.params).map(([k, v]) =>
    k === 'version' && /^[0-9]+$/.test(v) ? `${k}=${v}` : `${k}="${v.replace(/["\\]/g, (c) => `\\${c}`)}"`,
  );
  return params.length === 0 ? challenge.scheme : `${challenge.scheme} ${params.join(', ')}`;
}

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** User part, or '' when the URI names only a host. */
  readonly user: string;
  readonly host: string;
  readonly port: number | null;
}

/**
 * Reads `sip:user@host[:port][;params]`; host lower-cased, user kept as sent. The user part takes
 * RFC 3261's user characters only (no `<>"`, spaces or `:`), so a SIP address written into a
 * From/To header or a SOAP Entity cannot close the brackets or carry a password.
 */
export function parseSipUri(value: string): SipUri {
  const m = /^(sips?):(?:([A-Za-z0-9\-_.!~*'()%&=+$,/]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?::([0-9]{1,5}))?(?:[;?].*)?$/.exec(value.trim());
  if (!m) throw malformed('SIP URI', value);
  const port = m[4] === undefined ? null : Number(m[4]);
  if (port !== null && (port < 1 || port > 65535)) throw malformed('SIP URI', value);
  return { scheme: m[1] as 'sip' | 'sips', user: m[2] ?? '', host: m[3]!.toLowerCase(), port };
}

/**
 * The address-of-record form used to compare identities: `sip:user@host`, scheme `sip`, host
 * lower-cased, user kept (SIP user parts are case-sensitive, but Lync SIP addresses are
 * compared case-insensitively, so callers compare this lower-cased).
 */
export function addressOfRecord(value: string): string {
  const uri = parseSipUri(value);
  if (uri.user === '') throw malformed('SIP address', value);
  return `sip:${uri.user}@${uri.host}`.toLowerCase();
}
