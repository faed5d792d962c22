import { isErrorCode, TetherError, type ErrorCode } from '../../../common/errors';
import { realTimers, type RegistrationStatus } from '../../../native/protocol';
import type { AttachedPhone } from '../../device/attach';
import { updateFrom } from './check-update';
import type { StageContext, StageDefinition, UpdateFacts } from './types';
import { registerWithRegistrar, type RegisterOptions, type RegistrationResult } from '../../pool/sip';
import type { StageOutcome, StageProgress } from '../stage-events';
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

/**
 * Waits for the phone to report a finished sign-in (the event, or its status when the event came
 * before we listened). `at`: only a sign-in at this Registrar counts (outside: the edge's, not
 * the registration the phone still had from inside).
 */
function registration(ctx: StageContext, phone: AttachedPhone, at: string | null): Promise<RegistrationStatus> {
  const timeoutMs = ctx.policy.registrationTimeoutMs;
  const timers = ctx.services.timers ?? realTimers;
  const settled = (r: RegistrationStatus) => (r.state === 'registered' || r.state === 'failed') && (at === null || r.registrar?.toLowerCase() === at);
  return new Promise<RegistrationStatus>((resolve, reject) => {
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
    void phone.session.call('status', {}).then((s) => {
      if (settled(s.registration)) finish(() => resolve(s.registration));
    }, () => undefined);
  });
}

async function signedIn(ctx: StageContext, at: string | null): Promise<RegistrationStatus> {
  const phone = await ctx.phone();
  ctx.progress({ message: 'waiting for the phone to sign in' });
  const r = await registration(ctx, phone, at);
  if (r.state !== 'registered') throw registrationError(r);
  return r;
}

/**
 * The vendor's fallback, after sign-in: stage 3 found no Device Update, so the phone's update
 * check uses the address in-band provisioning gave it (`updatesserverinternalurl`), over HTTPS
 * trusting the stage-6 chain. An offered image is pushed as in stage 4; the phone then restarts
 * and signs in again.
 */
async function lateUpdate(ctx: StageContext, r: RegistrationStatus): Promise<{ facts: UpdateFacts | null; line: string | null; after: RegistrationStatus }> {
  if (ctx.spec.network === 'external' || !ctx.facts['check-update']?.deferred) return { facts: null, line: null, after: r };
  const url = r.provisioning?.deviceUpdateInternalUrl ?? null;
  if (url === null) return { facts: null, line: 'no update check: the phone reported no in-band Device Update address', after: r };
  ctx.progress({ message: `checking for updates with the in-band address ${new URL(url).host}` });
  const out = await updateFrom(ctx, url, ctx.poolHttp());
  const line = `update check with the in-band address ${url}: ${out.summary}`;
  if (out.facts.pushed === null) return { facts: out.facts, line, after: r };
  return { facts: out.facts, line, after: await signedIn(ctx, null) };
}

/** Stage 9: the phone signs in by itself with its certificate; Tether waits for its registration event. */
export const logonStage: StageDefinition<'logon'> = {
  id: 'logon',
  needs: 'paired phone',
  pool: false,
  async run(ctx) {
    const edge = ctx.spec.network === 'external' ? (ctx.facts.registrar ? tlsRegistrarOf(ctx.facts.registrar)?.host.toLowerCase() ?? null : null) : null;
    const first = await signedIn(ctx, edge);
    const late = await lateUpdate(ctx, first);
    const r = late.after;
    const display = (await (await ctx.phone()).session.call('status', {})).displayText;
    const where = ctx.spec.network === 'external' ? ' from outside' : '';
    return {
      facts: { sipUri: r.sipUri, registrar: r.registrar, display, lateUpdateCheck: late.line, lateUpdate: late.facts, provisioning: r.provisioning },
      summary: `the phone signed in${where} as ${r.sipUri} at ${r.registrar}${late.line ? `; ${late.line}` : ''}`,
    };
  },
};

export interface RegisterInput {
  readonly registrar: { readonly host: string; readonly port: number };
  readonly sipUri: string;
  /** The only trust: the stage-6 chain (or a CA file). */
  readonly caPems: readonly string[];
  /** Without one the Registrar's 401 says where to get one (`probe register` without --cert). */
  readonly clientCertificate?: { readonly certPem: string; readonly keyPem: string };
  readonly lookup?: RegisterOptions['lookup'];
  readonly timeoutMs?: number;
}

/** The pool half of stage 9 as `probe register` and test-bootstrap both run it: SIP REGISTER over TLS, TLS-DSK with the certificate. */
export async function registerStage(input: RegisterInput, progress: StageProgress): Promise<StageOutcome<RegistrationResult>> {
  const { host, port } = input.registrar;
  progress(`REGISTER to ${host}:${port}${input.clientCertificate ? ', authenticating with TLS-DSK and the issued certificate' : ' without a certificate'}`);
  const result = await registerWithRegistrar({
    registrar: { host, port },
    sipUri: input.sipUri,
    caPems: input.caPems,
    ...(input.lookup ? { lookup: input.lookup } : {}),
    ...(input.clientCertificate ? { clientCertificate: input.clientCertificate } : {}),
    ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
  });
  const sa = result.securityAssociation;
  const how = sa ? `, TLS-DSK inner ${sa.innerTls} ${sa.cipher}` : ', no authentication asked';
  return { value: result, summary: `registered ${result.sipUri} at ${result.registrar} (${result.tlsProtocol ?? 'TLS'}${how}, expires ${result.expires ?? '?'} s)` };
}

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
    const { value, summary } = await registerStage(
      {
        registrar: tls,
        sipUri: r.facts.auth!.sipUri,
        caPems: r.facts.chain!.pems,
        clientCertificate: { certPem: r.facts.certificate!.certificatePem, keyPem: r.key!.privateKeyPem() },
        lookup: r.options.resolver.lookup,
        ...(r.options.registerTimeoutMs === undefined ? {} : { timeoutMs: r.options.registerTimeoutMs }),
      },
      progress,
    );
    const { elapsedMs: _elapsed, ...facts } = value;
    return { value: facts, summary };
  },
};
