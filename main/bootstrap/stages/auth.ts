import { X509Certificate } from 'node:crypto';
import { TetherError, toTetherError } from '../../../common/errors';
import { findModel } from '../../../native/usb/catalogue';
import type { WebTicketAuth } from '../../pool/auth/webticket';
import { webTicketStage } from '../pool-stages';
import { checkIssuedCertificate } from '../throwaway-key';
import { progressOf, throwIfCancelled } from './common';
import type { AttachedPhone } from '../../device/attach';
import type { AuthFacts, StageContext, StageDefinition, StageResult } from './types';
import type { PoolStageDefinition } from './pool-types';

/**
 * The phone's certificate from an earlier sign-in, when it still lets the phone sign in: valid now,
 * chains to the root validated in stage 6, names this user, and the phone is using it (its
 * registration names the same address). The vendor's "preferred method" on later sign-ins.
 */
async function certificateSignIn(ctx: StageContext): Promise<{ sipUri: string; reason: string } | null> {
  const prior = ctx.services.prior(ctx.spec.serial).certificate;
  const chain = ctx.facts['ca-chain'];
  if (!prior || !chain || prior.user.toLowerCase() !== ctx.spec.user.toLowerCase()) return null;
  let check;
  try {
    check = checkIssuedCertificate(prior.certificatePem, new X509Certificate(prior.certificatePem).publicKey.export({ type: 'spki', format: 'pem' }).toString(), chain.pems, ctx.services.now());
  } catch {
    return null;
  }
  const leaf = new X509Certificate(prior.certificatePem);
  const names = `${leaf.subject}\n${leaf.subjectAltName ?? ''}`.toLowerCase();
  if (!names.includes(prior.sipUri.replace(/^sip:/i, '').toLowerCase())) return null;
  const status = await (await ctx.phone()).session.call('status', {});
  const r = status.registration;
  if (r.sipUri?.toLowerCase() !== prior.sipUri.toLowerCase() || (r.state !== 'registered' && r.state !== 'registering')) return null;
  return { sipUri: prior.sipUri, reason: `certificate sign-in: the phone's certificate '${check.subject}' is valid until ${check.notAfter}, chains to '${chain.rootSubject}' and names ${prior.sipUri}; no credentials asked` };
}

/** Stage 7: credentials to the phone over the paired channel; a web ticket from the pool (kept in memory only). */
export const authStage: StageDefinition<'auth'> = {
  id: 'auth',
  needs: 'paired phone',
  pool: true,
  async run(ctx) {
    const phone = await ctx.phone();
    const model = findModel(phone.identity.modelId, ctx.services.catalogue);
    if (ctx.spec.kind === 'pin' && model && !model.pinAuth) {
      throw new TetherError('PHONE_PIN_UNSUPPORTED', `A ${model.name} cannot sign in with a PIN; use Windows credentials (domain, user, password).`, { detail: { model: model.id } });
    }
    const kept = await certificateSignIn(ctx);
    if (kept) {
      const facts: AuthFacts = { method: 'certificate', sipUri: kept.sipUri, reason: kept.reason };
      return { facts, status: 'skipped', summary: kept.reason };
    }
    // A PIN or password the pool refuses is asked for again (reason 'rejected'), a few times.
    let reason: 'first' | 'resumed' | 'rejected' = ctx.resumed ? 'resumed' : 'first';
    for (let attempt = 1; ; attempt++) {
      const secret = await ctx.interaction.credentials(reason, ctx.signal);
      try {
        return await signInWith(ctx, phone, secret);
      } catch (err) {
        const e = toTetherError(err);
        if (!REJECTED.has(e.code) || attempt >= ctx.policy.credentialAttempts) throw e;
        ctx.progress({ message: `${e.code}: asking for the credentials again (attempt ${attempt + 1} of ${ctx.policy.credentialAttempts})` });
        reason = 'rejected';
      } finally {
        secret.fill(0);
      }
    }
  },
  // The web ticket lives in memory only: a job resumed before stage 8 finished signs in again, and
  // so does one resumed before stage 9 (stage 8 runs again, see there).
  onResume: (facts) => (facts.auth?.method !== 'certificate' && (facts.certificate === undefined || facts.logon === undefined) ? 'redo' : 'keep'),
};

/** The pool refused the PIN or password itself (not the account, not the service). */
const REJECTED = new Set(['WEBTICKET_PIN_REJECTED', 'NTLM_REJECTED']);

/** Hands the credentials to the phone over the paired channel, then asks the pool for a web ticket. */
async function signInWith(ctx: StageContext, phone: AttachedPhone, secret: Buffer): Promise<StageResult<AuthFacts>> {
  throwIfCancelled(ctx.signal);
  const { spec } = ctx;
  const [domain, username] = spec.kind === 'ntlm' ? splitNtlm(spec.user) : ['', ''];
  const ticketAuth: WebTicketAuth =
    spec.kind === 'pin' ? { kind: 'pin', phoneOrExt: spec.user, pin: secret.toString('utf8') } : { kind: 'ntlm', domain, username, password: secret.toString('utf8') };
  ctx.progress({ message: 'handing the credentials to the phone (paired channel)' });
  try {
    await phone.session.call(
      'credentials',
      ticketAuth.kind === 'pin'
        ? { kind: 'pin', extension: ticketAuth.phoneOrExt, pin: ticketAuth.pin }
        : { kind: 'ntlm', domain: ticketAuth.domain, user: ticketAuth.username, password: ticketAuth.password, sipUri: spec.sipUri ?? '' },
    );
  } catch (err) {
    const e = toTetherError(err);
    if (e.code === 'DEVICE_CREDENTIALS_REJECTED' && spec.kind === 'pin') throw new TetherError('PHONE_PIN_UNSUPPORTED', e.message, { detail: { model: phone.identity.modelId }, cause: e });
    throw e;
  }
  const out = await webTicketStage(
    {
      http: ctx.poolHttp(),
      webServicesUrl: ctx.facts.registrar!.webServices.url,
      auth: ticketAuth,
      ...(spec.sipUri ? { sipUri: spec.sipUri } : {}),
      now: ctx.services.now,
      keep: (t) => (ctx.memory.ticket = t),
    },
    progressOf(ctx),
  );
  return { facts: out.value as AuthFacts, summary: out.summary };
}

function splitNtlm(user: string): [string, string] {
  const at = user.indexOf('\\');
  if (at <= 0 || at === user.length - 1) throw new TetherError('BAD_INPUT', `Windows sign-in needs DOMAIN\\user, not '${user.slice(0, 80)}'.`);
  return [user.slice(0, at), user.slice(at + 1)];
}

/** Stage 7 without a phone: a web ticket with the PIN or Windows credentials, over HTTPS trusting the stage-6 chain. */
export const authPoolStage: PoolStageDefinition<'auth'> = {
  id: 'auth',
  needs: 'none',
  key: 'auth',
  run: (r, progress) =>
    webTicketStage(
      {
        http: r.pool(),
        webServicesUrl: r.facts.discovery!.webServices.url,
        auth: r.options.auth,
        ...(r.options.sipUri === undefined ? {} : { sipUri: r.options.sipUri }),
        now: r.now,
        keep: (t) => (r.ticket = t),
      },
      progress,
    ),
};
