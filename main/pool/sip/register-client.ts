import type { LookupFunction } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { TetherError } from '../../../common/errors';
import { addressOfRecord, newRegisterIds, RegisterTransaction, type RegisterIds, type RegistrarProvisioning } from '../../../common/pool/sip';

/**
 * Stage 9 from the PC: one SIP REGISTER over verified TLS to the Registrar, as the helpdesk's
 * `Test-CsClientAuth`-like probe. All protocol logic is in common/pool/sip; this module is only the
 * socket: connect (names through the PoolResolver), present the user's certificate when there is
 * one, run a RegisterTransaction over it, and map every socket failure to a typed stage-9 error.
 */

export interface RegistrarEndpoint {
  /** Registrar FQDN (verified against its certificate and sent as SNI). */
  readonly host: string;
  readonly port: number;
}

export interface RegisterOptions {
  readonly registrar: RegistrarEndpoint;
  /** The user's SIP address. */
  readonly sipUri: string;
  /** The pool's CA chain (PEM, from stage 6): the only roots trusted for the Registrar. */
  readonly caPems: readonly string[];
  /** The user's certificate and key (PEM), as issued in stage 8; omit to learn where to get one (401). */
  readonly clientCertificate?: { readonly certPem: string; readonly keyPem: string };
  readonly lookup?: LookupFunction;
  /** Whole exchange, connect to final answer (default 15 s). */
  readonly timeoutMs?: number;
  readonly ids?: RegisterIds;
  readonly userAgent?: string;
  readonly signal?: AbortSignal;
}

export interface RegistrationResult {
  readonly registrar: string;
  readonly sipUri: string;
  readonly expires: number | null;
  readonly gruu: string | null;
  readonly provisioning: RegistrarProvisioning;
  /** TLS version negotiated, e.g. TLSv1.3. */
  readonly tlsProtocol: string | null;
  readonly elapsedMs: number;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
}

/** Maps a socket/TLS failure to the stage-9 error a person can act on. */
export function registrarSocketError(err: unknown, where: string, secured: boolean): TetherError {
  if (err instanceof TetherError) return err;
  const code = codeOf(err);
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

/** Sends one REGISTER and returns the registration, or throws a typed stage-9 error. */
export function registerWithRegistrar(options: RegisterOptions): Promise<RegistrationResult> {
  const started = Date.now();
  const where = `${options.registrar.host}:${options.registrar.port}`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  try {
    addressOfRecord(options.sipUri);
  } catch {
    return Promise.reject(new TetherError('BAD_INPUT', `'${options.sipUri.slice(0, 100)}' is not a SIP address (sip:user@domain).`, { stage: 'logon' }));
  }
  return new Promise<RegistrationResult>((resolve, reject) => {
    let settled = false;
    let secured = false;
    let socket: TLSSocket;
    const finish = (err: TetherError | null, result?: RegistrationResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(result!);
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
    try {
      socket = connect({
        host: options.registrar.host,
        port: options.registrar.port,
        servername: options.registrar.host,
        ca: [...options.caPems],
        ...(options.clientCertificate ? { cert: options.clientCertificate.certPem, key: options.clientCertificate.keyPem } : {}),
        ...(options.lookup ? { lookup: options.lookup } : {}),
      });
    } catch (err) {
      clearTimeout(timer);
      reject(new TetherError('BAD_INPUT', `Cannot use the given client certificate or CA: ${(err as Error).message}`, { stage: 'logon', cause: err }));
      return;
    }
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

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
    socket.on('data', (chunk: Buffer) => {
      if (!transaction) return;
      const step = transaction.receive(chunk);
      if (!step.done) return;
      if ('error' in step) return finish(step.error);
      finish(null, { ...step.registration, tlsProtocol: socket.getProtocol(), elapsedMs: Date.now() - started });
    });
  });
}
