import { TetherError } from '../../../common/errors';
import { findModel } from '../../../native/usb/catalogue';
import { requireInternalSignIn, type InternalSignInFacts } from '../../pool/external';
import type { PoolResolver } from '../../pool/net/resolver';
import { checkForUpdate, deviceUpdateIdentity, LPE_IMAGE_FILE } from '../../pool/update';
import { externalChainStage, externalHttpClient, findExternalDeviceUpdateStage, findExternalRegistrarStage } from '../external-stages';
import { plural, tlsRegistrarOf, type ChainFound, type RegistrarFound } from '../pool-stages';
import { derOf, progressOf } from './common';
import type { FindUpdateFacts, StageContext, StageResult, UpdateFacts } from './types';

/**
 * The phone halves of stages 3–6 from outside the corporate network (`spec.network: 'external'`,
 * docs/pool/external.md): everything comes from the internal sign-in's facts in the journal and
 * the external DNS. Stages 7–9 are the internal ones over the external HTTP client
 * (job-runner.ts's poolHttp), whose only trust is the saved chain and which refuses plain HTTP.
 */

/** The external DNS, or the typed reason there is none (nothing to ask outside). */
export function externalResolverOf(ctx: StageContext): PoolResolver {
  const r = ctx.services.externalResolver;
  if (!r) throw new TetherError('EXTERNAL_PATH_UNAVAILABLE', undefined, { stage: 'find-update', detail: { serial: ctx.spec.serial } });
  return r;
}

/** The saved internal sign-in facts, checked (none → EXTERNAL_NEEDS_INTERNAL_SIGN_IN; tampered → EXTERNAL_FACTS_INVALID). */
export function savedFacts(ctx: StageContext): InternalSignInFacts {
  return requireInternalSignIn(ctx.services.prior(ctx.spec.serial).internalFacts, { serial: ctx.spec.serial });
}

/** Stage 3 outside: the facts gate, then the external Device Update host through the external DNS. */
export async function findUpdateOutside(ctx: StageContext): Promise<StageResult<FindUpdateFacts>> {
  // The gate first: a phone that never signed in inside is told so whatever else is missing.
  const facts = savedFacts(ctx);
  const resolver = externalResolverOf(ctx);
  const out = await findExternalDeviceUpdateStage(
    { facts, serial: ctx.spec.serial, resolver, connectTimeoutMs: ctx.policy.connectTimeoutMs },
    progressOf(ctx),
  );
  return { facts: { found: true, ...out.value }, summary: out.summary };
}

/**
 * Stage 4 outside: RequestHandlerExt, asked anonymously for the phone. Lync answers a phone that
 * signed in inside "anonymous access is not supported" and the phone retries with its own
 * certificate [S19]; that key never leaves the phone, so Tether cannot make the retry for it: the
 * check is left to the phone after it signs in (said so, stage skipped).
 */
export async function checkUpdateOutside(ctx: StageContext): Promise<StageResult<UpdateFacts>> {
  const facts = savedFacts(ctx);
  const phone = await ctx.phone();
  const runningVersion = phone.identity.firmwareVersion;
  const model = findModel(phone.identity.modelId, ctx.services.catalogue);
  if (!model) throw new TetherError('USB_NOT_A_PHONE', `The phone reports model '${phone.identity.modelId}', which the catalogue does not know.`);
  const identity = deviceUpdateIdentity(model, { serial: phone.identity.serial, mac: phone.identity.mac, runningVersion });
  const http = externalHttpClient(facts.chain.pems, externalResolverOf(ctx), ctx.services.httpOptions);
  const where = new URL(facts.deviceUpdateExternalUrl).host;
  try {
    ctx.progress({ message: `asking ${where} (RequestHandlerExt) for ${model.vendor} ${model.id} running ${runningVersion}` });
    const answer = await checkForUpdate(new URL(facts.deviceUpdateExternalUrl), identity, { http });
    const offered = answer.modules.find((m) => m.fileName.toLowerCase() === LPE_IMAGE_FILE.toLowerCase() && m.version !== runningVersion) ?? null;
    return {
      facts: { runningVersion, offered: offered?.version ?? null, pushed: null, deferred: false },
      status: 'skipped',
      summary: offered ? `${where} offers ${offered.fileName} ${offered.version}; installed at the next sign-in inside the corporate network` : `no update offered by ${where}`,
    };
  } catch (err) {
    if (!TetherError.is(err, 'UPDATE_ANONYMOUS_DENIED')) throw err;
    return {
      facts: { runningVersion, offered: null, pushed: null, deferred: true },
      status: 'skipped',
      summary: `${where} answers only with the phone's own certificate (anonymous access is not supported outside); a phone asks again with its own certificate once signed in [S19]; Tether cannot make that request for it`,
    };
  } finally {
    http.close();
  }
}

/** Stage 5 outside: the external SIP records; the phone is told the edge's Registrar and the external addresses. */
export async function registrarOutside(ctx: StageContext): Promise<StageResult<RegistrarFound>> {
  const facts = savedFacts(ctx);
  const found = await findExternalRegistrarStage({ facts, resolver: externalResolverOf(ctx) }, progressOf(ctx));
  const tls = tlsRegistrarOf(found.value);
  if (!tls) throw new TetherError('DNS_NO_REGISTRAR', 'No TLS Registrar was found in the external DNS; a phone signs in over TLS only.', { detail: { domain: facts.domain } });
  ctx.progress({ message: `setting the edge on the phone (Registrar ${tls.host}:${tls.port})` });
  await (await ctx.phone()).session.call('setPoolEndpoints', {
    registrar: { fqdn: tls.host, port: tls.port },
    webServicesInternal: null,
    webServicesExternal: facts.webServices.externalUrl,
    deviceUpdateInternal: null,
    deviceUpdateExternal: facts.deviceUpdateExternalUrl,
  });
  return { facts: found.value, summary: `${found.summary}; set on the phone` };
}

/**
 * Stage 6 outside: no download (there is no anonymous chain outside); the chain saved at the
 * internal sign-in is validated again, must still be what the external Web Services present
 * (EXTERNAL_CHAIN_CHANGED otherwise), and is installed on the phone again, root first.
 */
export async function caChainOutside(ctx: StageContext): Promise<StageResult<ChainFound>> {
  const facts = savedFacts(ctx);
  const out = await externalChainStage({ facts, resolver: externalResolverOf(ctx), now: ctx.services.now, connectTimeoutMs: ctx.policy.connectTimeoutMs }, progressOf(ctx));
  const v = out.value;
  const rootFirst = [...v.pems].reverse().map(derOf);
  ctx.progress({ message: `installing ${plural(rootFirst.length, 'certificate')} on the phone` });
  await (await ctx.phone()).session.call('installCaChain', { certificates: rootFirst });
  const chain: ChainFound = {
    rootSubject: v.rootSubject,
    rootFingerprint: v.rootFingerprint,
    trust: v.trust,
    intermediates: v.intermediates,
    inferredFromTls: v.inferredFromTls,
    sourceUrl: facts.webServices.externalUrl,
    pems: v.pems,
  };
  return { facts: chain, summary: `${out.summary}; installed on the phone` };
}
