import { TetherError } from '../../errors';
import { nodeErrorCode } from '../node-error-code';
import { newRegisterIds, type RegisterIds } from './register';
import { RegisterTransaction, type Registration } from './transaction';

/**
 * One REGISTER over a TLS socket someone else opened: the PC probe (main/pool/sip) and the
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

/** Runs one REGISTER on `socket` (just opened) and destroys it; rejects with a typed stage-9 error. */
export function runRegisterExchange(socket: RegisterSocket, options: RegisterExchangeOptions): Promise<Registration> {
  const { where, timeoutMs, signal } = options;
  return new Promise<Registration>((resolve, reject) => {
    let settled = false;
    let secured = false;
    const finish = (err: TetherError | null, registration?: Registration) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(registration!);
    };
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

    let transaction: RegisterTransaction | undefined;
    socket.on('error', (err) => finish(registrarSocketError(err, where, secured)));
    socket.on('close', () =>
      finish(new TetherError('REGISTRAR_UNREACHABLE', `The Registrar ${where} closed the connection before answering.`, { detail: { registrar: where, phase: secured ? 'exchange' : 'handshake' } })),
    );
    socket.once('secureConnect', () => {
      secured = true;
      try {
        transaction = new RegisterTransaction(
          {
            sipUri: options.sipUri,
            local: { host: socket.localAddress ?? '127.0.0.1', port: socket.localPort ?? 0 },
            ids: options.ids ?? newRegisterIds(),
            ...(options.userAgent ? { userAgent: options.userAgent } : {}),
          },
          where,
        );
        socket.write(transaction.bytes());
      } catch (err) {
        finish(err instanceof TetherError ? err : new TetherError('INTERNAL', String(err), { cause: err }));
      }
    });
    socket.on('data', (chunk) => {
      if (!transaction) return;
      const step = transaction.receive(chunk);
      if (!step.done) return;
      if ('error' in step) finish(step.error);
      else finish(null, step.registration);
    });
  });
}
