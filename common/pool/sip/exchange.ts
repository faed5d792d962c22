import { TetherError } from '../../errors';
import { nodeErrorCode } from '../node-error-code';
import { SipStreamDecoder, serializeSipMessage } from './codec';
import type { SipRequest, SipResponse } from './message';
import { buildRegister, interpretRegisterResponse, matchesRequest, newRegisterIds, outcomeError, type RegisterIds } from './register';
import { TlsDskClientAuth, type TlsDskCredential } from './tls-dsk-client';
import type { Registration } from './transaction';

/**
 * Stage-9 sign-in over a TLS socket someone else opened: the PC probe (main/pool/sip) and the
 * virtual phone (native/virtual) open theirs differently (the user's PEMs and the pool resolver,
 * or the phone's own secure context and DNS), then both run this: send on `secureConnect`, feed
 * the answer to a RegisterTransaction, and turn a timeout, a close or a socket error into the
 * same typed stage-9 error.
 */

/** What the exchange uses of the socket; node:tls's TLSSocket is one. */
export interface RegisterSocket {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  write(data: Uint8Array): unknown;
  destroy(): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'secureConnect', listener: () => void): unknown;
}

export interface RegisterExchangeOptions {
  /** `host:port` of the Registrar, for messages and error detail. */
  readonly where: string;
  readonly sipUri: string;
  /** Whole exchange, from connect to the final answer. */
  readonly timeoutMs: number;
  readonly ids?: RegisterIds;
  readonly userAgent?: string;
  readonly signal?: AbortSignal;
  /** The user's certificate for TLS-DSK; without one a 401 ends in REGISTRAR_CERT_REQUIRED. */
  readonly tlsDsk?: TlsDskCredential;
  /** Clock for the security association's timer (tests pass a fake one). */
  readonly now?: () => number;
}

/** Socket error codes that mean "no connection", as opposed to a failed TLS handshake. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/** Maps a socket/TLS failure to the stage-9 error a person can act on. */
export function registrarSocketError(err: unknown, where: string, secured: boolean): TetherError {
  if (err instanceof TetherError) return err;
  const code = nodeErrorCode(err);
  const reason = err instanceof Error ? err.message : String(err);
  if (!secured && UNREACHABLE.has(code)) {
    return new TetherError('REGISTRAR_UNREACHABLE', `Unable to contact Registrar for authentication (${where}: ${code}). Please sign in again.`, {
      detail: { registrar: where, nodeCode: code },
      cause: err,
    });
  }
  if (!secured) {
    return new TetherError('REGISTRAR_TLS_FAILED', `The secure connection to the Registrar ${where} failed: ${reason}`, {
      detail: { registrar: where, nodeCode: code || null, reason: reason.slice(0, 300) },
      cause: err,
    });
  }
  return new TetherError('REGISTRAR_UNREACHABLE', `The Registrar ${where} closed the connection during sign-in (${code || reason}).`, {
    detail: { registrar: where, nodeCode: code || null, phase: 'exchange' },
    cause: err,
  });
}

/**
 * Signs in on `socket` (just opened) and destroys it; rejects with a typed stage-9 error. With a
 * TLS-DSK credential every 401 carrying a TLS-DSK challenge is answered with a new REGISTER (same
 * Call-ID and From tag, next CSeq, new branch) until the inner handshake is done; the REGISTER
 * after it is signed and the 200 OK must carry the server's valid `rspauth`.
 */
export function runRegisterExchange(socket: RegisterSocket, options: RegisterExchangeOptions): Promise<Registration> {
  const { where, timeoutMs, signal } = options;
  const auth = options.tlsDsk ? new TlsDskClientAuth(options.tlsDsk, where, options.now) : null;
  return new Promise<Registration>((resolve, reject) => {
    let settled = false;
    let secured = false;
    const finish = (err: TetherError | null, registration?: Registration) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      auth?.close();
      socket.destroy();
      if (err) reject(err);
      else resolve(registration!);
    };
    const fail = (err: unknown) => finish(err instanceof TetherError ? err : new TetherError('INTERNAL', String(err), { cause: err }));
    const onAbort = () => finish(new TetherError('CANCELLED', 'The sign-in check was cancelled.', { stage: 'logon' }));
    const timer = setTimeout(
      () =>
        finish(
          secured
            ? new TetherError('REGISTRAR_TIMEOUT', `The Registrar ${where} did not answer the REGISTER within ${timeoutMs} ms.`, { detail: { registrar: where, timeoutMs } })
            : new TetherError('REGISTRAR_UNREACHABLE', `Unable to contact Registrar for authentication: no connection to ${where} within ${timeoutMs} ms.`, {
                detail: { registrar: where, timeoutMs, phase: 'connect' },
              }),
        ),
      timeoutMs,
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });

    const decoder = new SipStreamDecoder();
    const ids = options.ids ?? newRegisterIds();
    let cseq = 0;
    /** The REGISTER awaiting its final answer; null while the next one is being prepared. */
    let current: SipRequest | null = null;

    const send = (authorize?: (req: SipRequest) => SipRequest) => {
      cseq++;
      // Each REGISTER is a new transaction: same dialog identifiers, its own branch (RFC 3261 §8.1.1.7).
      const branch = cseq === 1 ? ids.branch : `${ids.branch}.${cseq}`;
      const req = buildRegister({
        sipUri: options.sipUri,
        local: { host: socket.localAddress ?? '127.0.0.1', port: socket.localPort ?? 0 },
        ids: { ...ids, branch },
        cseq,
        ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      });
      current = authorize ? authorize(req) : req;
      socket.write(serializeSipMessage(current));
    };

    const conclude = async (req: SipRequest, res: SipResponse) => {
      if (res.status === 401 && auth) {
        const step = await auth.answer(res);
        if (settled) return;
        if ('error' in step) return finish(step.error);
        return send(step.authorize);
      }
      const outcome = interpretRegisterResponse(req, res);
      const error = outcomeError(outcome, { registrar: where, sipUri: options.sipUri });
      if (error || outcome.kind !== 'registered') return finish(error ?? new TetherError('INTERNAL', 'Unexpected REGISTER outcome.'));
      const unsigned = auth?.verify(res) ?? null;
      if (unsigned) return finish(unsigned);
      finish(null, {
        sipUri: options.sipUri,
        registrar: where,
        expires: outcome.expires,
        gruu: outcome.gruu,
        provisioning: outcome.provisioning,
        securityAssociation: auth?.securityAssociation() ?? null,
      });
    };

    socket.on('error', (err) => finish(registrarSocketError(err, where, secured)));
    socket.on('close', () =>
      finish(new TetherError('REGISTRAR_UNREACHABLE', `The Registrar ${where} closed the connection before answering.`, { detail: { registrar: where, phase: secured ? 'exchange' : 'handshake' } })),
    );
    socket.once('secureConnect', () => {
      secured = true;
      try {
        send();
      } catch (err) {
        fail(err);
      }
    });
    socket.on('data', (chunk) => {
      if (!secured || settled) return;
      try {
        for (const msg of decoder.push(chunk)) {
          // Provisional answers, requests from the server and answers to earlier REGISTERs are skipped.
          const req = current;
          if (msg.kind !== 'response' || msg.status < 200 || req === null || !matchesRequest(req, msg)) continue;
          current = null;
          conclude(req, msg).catch(fail);
        }
      } catch (err) {
        fail(err);
      }
    });
  });
}
