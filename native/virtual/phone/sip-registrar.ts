import { Resolver } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { TetherError } from '../../../common/errors';
import { derToPem } from '../../../common/pool/chain/pkcs7';
import { clientKeyTooSmall, newRegisterIds, nextRegistrationMs, runRegisterExchange, TLS_DSK_INNER_TLS, weakClientKeyError, type Registration } from '../../../common/pool/sip';
import type { RegistrarConnector, RegistrationAttempt, RegistrationResult } from './phone';

/**
 * Stage 9 on the virtual phone, as a Lync phone signs in: SIP over TLS that verifies the Registrar
 * against the CA chain installed on the phone, then TLS-DSK inside SIP [MS-SIPAE] with the phone's
 * own certificate and key (the attempt's `secureContext()`, the key never leaves it). The Registrar
 * FQDN and port are the pool endpoints Tether set, and the name resolves through the phone's DNS
 * servers. The exchange is common/pool/sip's runRegisterExchange, the same one the PC-side probe
 * (main/pool/sip) runs.
 *
 * The result's `diagnostics` starts with the typed error code ("REGISTRAR_UNREACHABLE: …") so the
 * host maps a failed sign-in to the same typed stage-9 error the PC probe raises (OUR MODEL: the
 * real phones' status text is not published).
 */

export interface SipRegistrarOptions {
  /**
   * DNS servers the phone uses, as `host` or `host:port` (the phone's DHCP lease names servers
   * without a port; a lab DNS on loopback needs one). Default: the system's resolver.
   */
  readonly dnsServers?: readonly string[];
  /** Connect to final answer (default 15 s). */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
  /** Per-device epid and +sip.instance (default: fresh per connector). */
  readonly device?: { readonly epid: string; readonly instance: string };
  /** Clock for the security association's timer (tests pass a fake one). */
  readonly now?: () => number;
}

/** When the phone must sign in again: before the registration lapses and before the SA expires. */
function renewalDelay(registration: Registration): number {
  return nextRegistrationMs(registration.expires, registration.securityAssociation?.refreshAfterMs ?? null);
}

/** A `lookup` for sockets that asks only the given DNS servers (A records; literals pass through). */
function phoneLookup(servers: readonly string[]): LookupFunction {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([...servers]);
  return (hostname, opts, callback) => {
    const all = typeof opts === 'object' && opts !== null && opts.all === true;
    const reply = (address: string, family: number) => {
      if (all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const literal = isIP(hostname);
    if (literal !== 0) return reply(hostname, literal);
    resolver.resolve4(hostname, (err, addresses) => {
      if (err || addresses.length === 0) {
        callback(Object.assign(new Error(`queryA ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '', 0);
        return;
      }
      reply(addresses[0]!, 4);
    });
  };
}

function failure(code: string, message: string, sipStatus: number | null = null): RegistrationResult {
  return { ok: false, sipStatus, diagnostics: `${code}: ${message}`.slice(0, 512) };
}

/** SIP status of a typed REGISTER outcome error (401 challenge, 403/404 refusal, other). */
function statusOf(err: TetherError): number | null {
  if (err.code === 'REGISTRAR_CERT_REQUIRED') return 401;
  const status = err.detail?.status;
  if (typeof status === 'number') return status;
  return err.code === 'REGISTRAR_FORBIDDEN' ? 403 : null;
}

/**
 * The TLS context that trusts a CA chain, made once per chain. Making an OpenSSL context costs
 * milliseconds of the event loop; phones sharing a connector (a fleet on one lab) and every
 * renewal would otherwise each make the same one. It holds only public certificates.
 */
function trustContexts(): (caChain: readonly Uint8Array[]) => SecureContext {
  let last: { key: string; context: SecureContext } | undefined;
  return (caChain) => {
    const ca = caChain.map(derToPem);
    const key = ca.join('');
    if (last?.key !== key) last = { key, context: createSecureContext({ ca }) };
    return last.context;
  };
}

/** Makes the phone's stage-9 connection: one REGISTER per sign-in attempt. */
export function createSipRegistrarConnector(options: SipRegistrarOptions = {}): RegistrarConnector {
  const lookup = options.dnsServers && options.dnsServers.length > 0 ? phoneLookup(options.dnsServers) : undefined;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const trusting = trustContexts();
  return async (attempt: RegistrationAttempt) => {
    const small = attempt.certificate.byteLength > 0 ? clientKeyTooSmall(attempt.certificate, 'The phone') : null;
    if (small) return failure(small.code, small.message);
    let socket: TLSSocket;
    let innerContext;
    try {
      innerContext = attempt.certificate.length > 0 ? attempt.secureContext(TLS_DSK_INNER_TLS) : null;
      socket = connect({
        host: attempt.registrar.fqdn,
        port: attempt.registrar.port,
        servername: attempt.registrar.fqdn,
        secureContext: trusting(attempt.caChain),
        ...(lookup ? { lookup } : {}),
      });
    } catch (err) {
      // A key too small for TLS has its own fix (a 2048-bit key), not a failed handshake's.
      const weak = weakClientKeyError(err, 'The phone');
      if (weak) return failure(weak.code, weak.message);
      return failure('REGISTRAR_TLS_FAILED', `The phone cannot use its certificate: ${(err as Error).message}`);
    }
    try {
      const registration = await runRegisterExchange(socket, {
        where: `${attempt.registrar.fqdn}:${attempt.registrar.port}`,
        sipUri: attempt.sipUri,
        timeoutMs,
        ids: newRegisterIds(options.device),
        userAgent: options.userAgent ?? 'Tether virtual phone',
        ...(innerContext ? { tlsDsk: { secureContext: () => innerContext, certificateDer: attempt.certificate } } : {}),
        ...(options.now ? { now: options.now } : {}),
      });
      const p = registration.provisioning;
      const provisioning = { registrarFqdn: p.registrarFqdn, deviceUpdateInternalUrl: p.deviceUpdateInternalUrl, deviceUpdateExternalUrl: p.deviceUpdateExternalUrl };
      return { ok: true, sipStatus: 200, diagnostics: null, renewAfterMs: renewalDelay(registration), provisioning };
    } catch (err) {
      const e = err instanceof TetherError ? err : new TetherError('INTERNAL', String(err), { cause: err });
      return failure(e.code, e.message, statusOf(e));
    }
  };
}

/** The typed error code a failed registration's diagnostics start with, if any. */
export function registrationErrorCode(diagnostics: string | null): string | null {
  const m = /^([A-Z][A-Z0-9_]{2,63}): /.exec(diagnostics ?? '');
  return m ? m[1]! : null;
}
