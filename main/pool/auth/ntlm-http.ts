import type { IncomingHttpHeaders } from 'node:http';
import { TetherError } from '../../../common/errors';
import { describeMsDiagnostics, parseMsDiagnosticsHeader } from '../../../common/pool/ms-diagnostics';
import { NtlmClient, type NtlmClientOptions, type NtlmCredentials } from '../../../common/pool/ntlm';
import type { StageId } from '../../../common/stages';
import { requireHttps } from './require-https';
import { headerValue, type PoolHttpClient, type PoolRequest, type PoolResponse } from '../net/http';

/**
 * NTLM over HTTP, RFC 4559: `WWW-Authenticate: NTLM` / `Authorization: NTLM <base64>`. The server
 * binds the handshake to the TCP connection, so the probe and all three legs run on one
 * kept-alive socket (a PoolHttpClient session); if the server drops it mid-way that is
 * NTLM_CONNECTION_LOST, not a retry on a new socket.
 */

export interface NtlmHttpRequest extends Omit<PoolRequest, 'stage' | 'headers' | 'url'> {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly stage?: StageId;
  /** See RequireHttpsOptions: plain http to an IP-literal loopback address (a lab), for a loud flag only. */
  readonly allowPlainHttpOnLoopback?: boolean;
}

export interface NtlmHttpResult {
  /** The answer to the authenticated request. */
  readonly response: PoolResponse;
  /** The scheme the server offered and we used: NTLM, or Negotiate carrying raw NTLM tokens. */
  readonly scheme: 'NTLM' | 'Negotiate';
  /** The connection the whole handshake ran on. */
  readonly socketId: number;
}

interface Offer {
  readonly scheme: 'NTLM' | 'Negotiate';
  readonly token: Buffer | null;
}

/** NTLM or Negotiate offers in WWW-Authenticate (Node joins repeated headers with ', '). */
export function parseAuthenticateOffers(headers: IncomingHttpHeaders): Offer[] {
  const raw = headerValue(headers, 'www-authenticate');
  if (raw === undefined) return [];
  const offers: Offer[] = [];
  for (const m of raw.matchAll(/(?:^|,)\s*(NTLM|Negotiate)(?:\s+([A-Za-z0-9+/]+={0,2}))?\s*(?=,|$)/gi)) {
    offers.push({ scheme: m[1]!.toLowerCase() === 'ntlm' ? 'NTLM' : 'Negotiate', token: m[2] === undefined ? null : Buffer.from(m[2], 'base64') });
  }
  return offers;
}

function diagnosticsDetail(res: PoolResponse): Record<string, string | number> {
  const d = parseMsDiagnosticsHeader(headerValue(res.headers, 'x-ms-diagnostics'));
  return d === null ? {} : { msDiagnostics: describeMsDiagnostics(d), msErrorId: d.errorId };
}

/**
 * Sends `req` authenticated with NTLM. The password bytes (if given as a Buffer) are left intact
 * for the caller to wipe; every key derived from them is wiped by the NTLM client.
 */
export async function ntlmHttpRequest(
  http: PoolHttpClient,
  credentials: NtlmCredentials,
  req: NtlmHttpRequest,
  clientOptions: NtlmClientOptions = {},
): Promise<NtlmHttpResult> {
  const stage = req.stage ?? 'auth';
  let url: URL;
  try {
    url = new URL(req.url);
  } catch (cause) {
    throw new TetherError('HTTP_BAD_URL', `Not a valid URL: ${req.url}`, { stage, cause });
  }
  // The NTLMv2 response can be cracked offline and relayed: it goes over TLS only (the rule every
  // credential follows, require-https.ts), checked here so no caller can forget it.
  try {
    requireHttps(req.url, 'NTLM_NOT_HTTPS', 'NTLM sign-in', { allowPlainHttpOnLoopback: req.allowPlainHttpOnLoopback });
  } catch (err) {
    throw err instanceof TetherError ? err.withStage(stage) : err;
  }
  const { allowPlainHttpOnLoopback: _allow, ...request } = req;
  const session = http.session(url);
  const where = { url: `${url.origin}${url.pathname}` };
  const send = (authorization: string | null, final: boolean): Promise<PoolResponse> =>
    session.request({
      ...request,
      url: req.url,
      stage,
      noRetry: true,
      headers: { ...(req.headers ?? {}), ...(authorization === null ? {} : { authorization }) },
      // A 401 is an answer on every leg (a challenge, or a rejection we type ourselves); the
      // final leg otherwise follows the caller's rule.
      acceptStatus: (s: number) => s === 401 || (final && req.acceptStatus ? req.acceptStatus(s) : s < 500),
    });
  try {
    const probe = await send(null, false);
    if (probe.status !== 401) {
      throw new TetherError('NTLM_NOT_OFFERED', `${url.origin}${url.pathname} answered HTTP ${probe.status} without asking for authentication.`, {
        stage,
        detail: { ...where, status: probe.status },
      });
    }
    const offers = parseAuthenticateOffers(probe.headers);
    const offer = offers.find((o) => o.scheme === 'NTLM') ?? offers.find((o) => o.scheme === 'Negotiate');
    if (!offer) {
      throw new TetherError('NTLM_NOT_OFFERED', undefined, {
        stage,
        detail: { ...where, offered: (headerValue(probe.headers, 'www-authenticate') ?? '').slice(0, 200) },
      });
    }
    const client = new NtlmClient(credentials, { spn: `HTTP/${url.hostname}`, ...clientOptions });
    const leg1 = await send(`${offer.scheme} ${client.negotiate().toString('base64')}`, false);
    const challenge = parseAuthenticateOffers(leg1.headers).find((o) => o.scheme === offer.scheme && o.token !== null);
    if (leg1.status !== 401 || !challenge?.token) {
      throw new TetherError('NTLM_MALFORMED', `The server answered the NTLM NEGOTIATE with HTTP ${leg1.status} and no CHALLENGE.`, {
        stage,
        detail: { ...where, status: leg1.status, ...diagnosticsDetail(leg1) },
      });
    }
    let authenticate: Buffer;
    try {
      authenticate = client.authenticate(challenge.token);
    } catch (err) {
      throw err instanceof TetherError ? err.withStage(stage) : err;
    }
    // The AUTHENTICATE holds the NTLMv2 response (crackable offline): wiped whatever the answer.
    const leg2 = await send(`${offer.scheme} ${authenticate.toString('base64')}`, true)
      .catch((err: unknown) => {
        // A connection closed right after the AUTHENTICATE is how some servers end a failed handshake.
        if (err instanceof TetherError && err.code === 'HTTP_CONNECT_FAILED') throw lost(stage, where);
        throw err;
      })
      .finally(() => authenticate.fill(0));
    if (leg2.socketId !== leg1.socketId) throw lost(stage, where);
    if (leg2.status === 401) {
      throw new TetherError('NTLM_REJECTED', undefined, {
        stage,
        detail: { ...where, user: `${credentials.domain}\\${credentials.user}`, ...diagnosticsDetail(leg2) },
      });
    }
    return { response: leg2, scheme: offer.scheme, socketId: leg2.socketId };
  } finally {
    session.close();
  }
}

function lost(stage: StageId, where: Record<string, string>): TetherError {
  return new TetherError('NTLM_CONNECTION_LOST', undefined, { stage, detail: where });
}
