import { isErrorCode, TetherError, type ErrorCode } from '../../../common/errors';
import { realTimers, type RegistrationStatus } from '../../../native/protocol';
import type { StageDefinition } from './types';
import { registerWithRegistrar } from '../../pool/sip';
import { tlsRegistrarOf } from '../pool-stages';
import type { PoolStageDefinition } from './pool-types';

/** A failed sign-in as the phone reported it, as the typed stage-9 error. */
export function registrationError(r: RegistrationStatus): TetherError {
  const named = /^([A-Z][A-Z0-9_]{2,63}): /.exec(r.diagnostics ?? '')?.[1];
  const fromStatus: ErrorCode =
    r.sipStatus === 401 || r.sipStatus === 407 ? 'REGISTRAR_CERT_REQUIRED'
    : r.sipStatus === 403 || r.sipStatus === 404 ? 'REGISTRAR_FORBIDDEN'
    : r.sipStatus !== null ? 'REGISTRAR_REJECTED'
    : 'REGISTRAR_UNREACHABLE';
  const code: ErrorCode = named !== undefined && isErrorCode(named) && named.startsWith('REGISTRAR_') ? named : fromStatus;
  const text = (r.diagnostics ?? '').replace(/^[A-Z][A-Z0-9_]{2,63}: /, '');
  return new TetherError(code, `The phone could not sign in${r.registrar ? ` to ${r.registrar}` : ''}${r.sipStatus ? ` (SIP ${r.sipStatus})` : ''}${text ? `: ${text}` : '.'}`, {
    stage: 'logon',
    detail: { sipUri: r.sipUri, registrar: r.registrar, sipStatus: r.sipStatus },
  });
}

const settled = (r: RegistrationStatus) => r.state === 'registered' || r.state === 'failed';

/** Stage 9: the phone signs in by itself with its certificate; Tether waits for its registration event. */
export const logonStage: StageDefinition<'logon'> = {
  id: 'logon',
  needs: 'paired phone',
  pool: false,
  async run(ctx) {
    const phone = await ctx.phone();
    ctx.progress({ message: 'waiting for the phone to sign in' });
    const timeoutMs = ctx.policy.registrationTimeoutMs;
    const timers = ctx.services.timers ?? realTimers;
    const r = await new Promise<RegistrationStatus>((resolve, reject) => {
      const finish = (fn: () => void) => {
        timers.clearTimeout(timer);
        off();
        ctx.signal.removeEventListener('abort', onAbort);
        fn();
      };
      const timer = timers.setTimeout(
        () => finish(() => reject(new TetherError('PHONE_REGISTRATION_TIMEOUT', `The phone did not report its sign-in within ${timeoutMs} ms.`, { detail: { serial: ctx.spec.serial, timeoutMs } }))),
        timeoutMs,
      );
      const off = phone.session.on('registration', (x) => {
        if (settled(x)) finish(() => resolve(x));
      });
      const onAbort = () => finish(() => reject(new TetherError('CANCELLED', 'The sign-in was cancelled.')));
      ctx.signal.addEventListener('abort', onAbort);
      // The event may have come before we listened (the phone signs in as soon as its certificate is in): ask.
      void phone.session.call('status', {}).then((s) => {
        if (settled(s.registration)) finish(() => resolve(s.registration));
      }, () => undefined);
    });
    if (r.state !== 'registered') throw registrationError(r);
    const display = (await phone.session.call('status', {})).displayText;
    return { facts: { sipUri: r.sipUri, registrar: r.registrar, display, lateUpdateCheck: null }, summary: `the phone signed in as ${r.sipUri} at ${r.registrar}` };
  },
};

/** Stage 9 without a phone (with --register): SIP REGISTER over TLS with the issued certificate and the throw-away key. */
export const logonPoolStage: PoolStageDefinition<'logon'> = {
  id: 'logon',
  needs: 'none',
  key: 'logon',
  when: (r) => r.options.register === true,
  async run(r, progress) {
    const discovery = r.facts.discovery!;
    const tls = tlsRegistrarOf(discovery);
    if (!tls) throw new TetherError('REGISTRAR_UNREACHABLE', 'No TLS Registrar was found in stage 5; a phone signs in over TLS only.', { detail: { registrar: discovery.registrar.host } });
    progress(`REGISTER to ${tls.host}:${tls.port} with the issued certificate`);
    const result = await registerWithRegistrar({
      registrar: { host: tls.host, port: tls.port },
      sipUri: r.facts.auth!.sipUri,
      caPems: r.facts.chain!.pems,
      clientCertificate: { certPem: r.facts.certificate!.certificatePem, keyPem: r.key!.privateKeyPem() },
      lookup: r.options.resolver.lookup,
      ...(r.options.registerTimeoutMs === undefined ? {} : { timeoutMs: r.options.registerTimeoutMs }),
    });
    const { elapsedMs: _elapsed, ...value } = result;
    return { value, summary: `registered ${result.sipUri} at ${result.registrar} (${result.tlsProtocol ?? 'TLS'}, expires ${result.expires ?? '?'} s)` };
  },
};
