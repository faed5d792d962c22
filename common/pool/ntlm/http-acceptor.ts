import { TetherError } from '../../errors';
import { createChallenge, verifyAuthenticate, type NtlmChallengeState, type NtlmRejectReason, type NtlmSecret, type NtlmServerIdentity, type NtlmServerOptions } from './server';

/**
 * The server side of NTLM over HTTP (RFC 4559) with no HTTP library in it, for the lab and for
 * tests: the caller passes each request's connection (any object, e.g. the socket) and its
 * Authorization header, and answers with what step() says. Like IIS, the handshake and the
 * resulting identity are bound to the connection.
 */

export type NtlmHttpStep =
  /** Answer 401 with `WWW-Authenticate: <header>` (the scheme alone, or scheme + CHALLENGE). */
  | { readonly kind: 'challenge'; readonly header: string }
  /** Let the request through. */
  | { readonly kind: 'authenticated'; readonly domain: string; readonly user: string }
  /** Answer 401 with `WWW-Authenticate: <header>` (a fresh start); the reason is for the lab's log. */
  | { readonly kind: 'rejected'; readonly header: string; readonly reason: NtlmRejectReason | 'malformed' | 'no-challenge'; readonly domain: string; readonly user: string };

export type NtlmHttpAcceptorOptions = NtlmServerOptions;

const TOKEN = /^\s*(NTLM|Negotiate)\s+([A-Za-z0-9+/]+={0,2})\s*$/i;
const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');

export class NtlmHttpAcceptor {
  private readonly pending = new WeakMap<object, { state: NtlmChallengeState; scheme: string }>();
  private readonly authenticated = new WeakMap<object, { domain: string; user: string }>();

  constructor(
    private readonly identity: NtlmServerIdentity,
    private readonly lookup: (domain: string, user: string) => NtlmSecret | undefined,
    private readonly options: NtlmHttpAcceptorOptions = {},
  ) {}

  step(connection: object, authorization: string | undefined): NtlmHttpStep {
    const m = authorization === undefined ? null : TOKEN.exec(authorization);
    if (!m) {
      const known = this.authenticated.get(connection);
      if (known && authorization === undefined) return { kind: 'authenticated', ...known };
      return { kind: 'challenge', header: 'NTLM' };
    }
    const scheme = m[1]!.toLowerCase() === 'ntlm' ? 'NTLM' : 'Negotiate';
    const token = Buffer.from(m[2]!, 'base64');
    // Negotiate is accepted only with a raw NTLMSSP token inside (no SPNEGO/Kerberos here).
    if (token.length < 12 || !token.subarray(0, 8).equals(NTLMSSP)) return { kind: 'rejected', header: scheme, reason: 'malformed', domain: '', user: '' };
    this.authenticated.delete(connection);
    const type = token.readUInt32LE(8);
    try {
      if (type === 1) {
        const { message, state } = createChallenge(token, this.identity, this.options);
        this.pending.set(connection, { state, scheme });
        return { kind: 'challenge', header: `${scheme} ${message.toString('base64')}` };
      }
      if (type === 3) {
        const pending = this.pending.get(connection);
        this.pending.delete(connection);
        if (!pending) return { kind: 'rejected', header: scheme, reason: 'no-challenge', domain: '', user: '' };
        const result = verifyAuthenticate(pending.state, token, this.lookup);
        if (!result.ok) return { kind: 'rejected', header: scheme, reason: result.reason, domain: result.domain, user: result.user };
        this.authenticated.set(connection, { domain: result.domain, user: result.user });
        return { kind: 'authenticated', domain: result.domain, user: result.user };
      }
    } catch (err) {
      if (err instanceof TetherError && err.code === 'NTLM_MALFORMED') return { kind: 'rejected', header: scheme, reason: 'malformed', domain: '', user: '' };
      throw err;
    }
    return { kind: 'rejected', header: scheme, reason: 'malformed', domain: '', user: '' };
  }
}
