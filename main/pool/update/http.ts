import { TetherError } from '../../../common/errors';
import type { StageId } from '../../../common/stages';
import type { HttpTimeouts, PoolHttpClient } from '../net/http';

/** How the Device Update client reaches the pool: the shared pool HTTP client (resolver, CAs, timeouts). */
export interface UpdateHttpOptions {
  readonly http: PoolHttpClient;
  /** Per-request timeouts; image downloads default to a long total time (see DOWNLOAD_TIMEOUTS). */
  readonly timeouts?: Partial<HttpTimeouts>;
  readonly signal?: AbortSignal;
  /** Free bytes for a new file in `dir` (default: statfs); tests inject one. */
  readonly freeBytes?: (dir: string) => Promise<number>;
}

/** A firmware image over a slow branch link takes minutes; only silence (idle) should end it early. */
export const DOWNLOAD_TIMEOUTS: Partial<HttpTimeouts> = { totalMs: 60 * 60 * 1000 };

const UNREACHABLE = new Set(['HTTP_DNS_FAILED', 'HTTP_CONNECT_REFUSED', 'HTTP_CONNECT_FAILED']);

/**
 * "Cannot reach it at all" becomes UPDATE_SERVICE_UNREACHABLE, whose fix names ucupdates-r2 and the
 * pool's web server; TLS and timeout errors keep their own, more precise codes.
 */
export function reachError(err: unknown, url: URL, stage: StageId): unknown {
  if (err instanceof TetherError && UNREACHABLE.has(err.code)) {
    return new TetherError('UPDATE_SERVICE_UNREACHABLE', `${url.origin}: ${err.message}`, {
      stage,
      detail: { url: `${url.origin}${url.pathname}`, transport: err.code },
      cause: err,
    });
  }
  return err instanceof TetherError && err.stage !== stage ? err.withStage(stage) : err;
}
