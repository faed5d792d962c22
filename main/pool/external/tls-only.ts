import { TetherError } from '../../../common/errors';
import type { StageId } from '../../../common/stages';
import { PoolHttpClient, type HttpSession, type PoolRequest, type PoolResponse, type PoolStreamResponse } from '../net/http';

/**
 * Outside the corporate network Tether talks to the external Web Services over TLS only: the
 * external listener has no plain-HTTP side (a plain request there is refused), and anything
 * plain (an http:// address saved, given, or read from a mex document) is refused here, before
 * a socket is opened, with EXTERNAL_PLAIN_HTTP_REFUSED.
 */
export function requireExternalTls(url: string | URL, what: string, stage: StageId): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new TetherError('EXTERNAL_FACTS_INVALID', `The external ${what} address '${String(url).slice(0, 200)}' is not a URL.`, { stage, detail: { what }, cause });
  }
  if (parsed.protocol !== 'https:') {
    throw new TetherError('EXTERNAL_PLAIN_HTTP_REFUSED', `The external ${what} address ${parsed.origin}${parsed.pathname} is not https; outside the corporate network Tether uses TLS only.`, {
      stage,
      detail: { what, url: `${parsed.origin}${parsed.pathname}` },
    });
  }
  return parsed;
}

/** Runs `go` only when `url` is https; otherwise the typed refusal, as a rejected promise. */
function whenTls<T>(url: string | URL, stage: StageId, go: () => Promise<T>): Promise<T> {
  try {
    requireExternalTls(url, 'Web Services', stage);
  } catch (err) {
    return Promise.reject(err);
  }
  return go();
}

/** A pool HTTP client for the external path: every request, stream and session must be https. */
export class ExternalHttpClient extends PoolHttpClient {
  override request(req: PoolRequest): Promise<PoolResponse> {
    return whenTls(req.url, req.stage, () => super.request(req));
  }

  override stream(req: PoolRequest): Promise<PoolStreamResponse> {
    return whenTls(req.url, req.stage, () => super.stream(req));
  }

  override session(url: string | URL): HttpSession {
    requireExternalTls(url, 'Web Services', 'auth');
    const inner = super.session(url);
    return {
      request: (req) => whenTls(req.url, req.stage, () => inner.request(req)),
      close: () => inner.close(),
    };
  }
}
