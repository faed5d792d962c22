import type { LookupFunction } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { connect, createSecureContext, type TLSSocket } from 'node:tls';
import { TetherError } from '../../../common/errors';
import {
  addressOfRecord,
  clientKeyTooSmall,
  runRegisterExchange,
  TLS_DSK_INNER_TLS,
  weakClientKeyError,
  type RegisterIds,
  type RegistrarProvisioning,
  type SecurityAssociation,
  type TlsDskCredential,
} from '../../../common/pool/sip';

/**
 * Stage 9 from the PC: one SIP REGISTER over verified TLS to the Registrar, as the helpdesk's
 * `Test-CsClientAuth`-like probe. All protocol logic is in common/pool/sip; this module is only the
 * socket: connect over server-authenticated TLS (names through the PoolResolver) and run
 * common/pool/sip's REGISTER exchange, which authenticates with TLS-DSK using the user's
 * certificate when there is one (and maps every failure to a typed stage-9 error).
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
  /** The user's certificate and key (PEM), as issued in stage 8, for TLS-DSK; omit to learn where to get one (401). */
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
  /** TLS version of the outer connection, e.g. TLSv1.3. */
  readonly tlsProtocol: string | null;
  /** The TLS-DSK security association (inner TLS version and suite, when to authenticate again). */
  readonly securityAssociation: SecurityAssociation | null;
  readonly elapsedMs: number;
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
  const small = options.clientCertificate ? clientKeyTooSmall(options.clientCertificate.certPem, 'Tether') : null;
  if (small) return Promise.reject(small);
  let socket: TLSSocket;
  let tlsDsk: TlsDskCredential | undefined;
  try {
    const cred = options.clientCertificate;
    if (cred) {
      // Parsed now so a bad PEM is BAD_INPUT before anything is sent; the inner TLS trusts the same CAs.
      const context = createSecureContext({ cert: cred.certPem, key: cred.keyPem, ca: [...options.caPems], ...TLS_DSK_INNER_TLS });
      tlsDsk = { secureContext: () => context, certificateDer: new X509Certificate(cred.certPem).raw };
    }
    socket = connect({
      host: options.registrar.host,
      port: options.registrar.port,
      servername: options.registrar.host,
      ca: [...options.caPems],
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
  } catch (err) {
    const weak = weakClientKeyError(err, 'Tether');
    if (weak) return Promise.reject(weak);
    return Promise.reject(new TetherError('BAD_INPUT', `Cannot use the given client certificate or CA: ${(err as Error).message}`, { stage: 'logon', cause: err }));
  }
  const exchange = runRegisterExchange(socket, {
    where,
    sipUri: options.sipUri,
    timeoutMs,
    ...(options.ids ? { ids: options.ids } : {}),
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(tlsDsk ? { tlsDsk } : {}),
  });
  // The TLS version is read before the exchange destroys the socket (at its first answer).
  let tlsProtocol: string | null = null;
  socket.once('secureConnect', () => (tlsProtocol = socket.getProtocol()));
  return exchange.then((registration) => ({ ...registration, tlsProtocol, elapsedMs: Date.now() - started }));
}
