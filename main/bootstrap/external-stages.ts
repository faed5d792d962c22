import { TetherError } from '../../common/errors';
import type { DeviceIdentity } from '../../common/pool/device-update-wire';
import { EXTERNAL_REGISTRAR_STEPS } from '../pool/discovery/registrar';
import type { RandomSource } from '../pool/discovery/srv-order';
import {
  checkExternalUpdate,
  ExternalHttpClient,
  isFactsCertificate,
  requireInternalSignIn,
  verifyExternalChain,
  type ExternalChain,
  type InternalSignInFacts,
} from '../pool/external';
import type { PoolHttpOptions } from '../pool/net/http';
import type { PoolResolver } from '../pool/net/resolver';
import { findDeviceUpdateStage, findRegistrarStage, plural, type DeviceUpdateFound, type RegistrarFound, type UpdateCheck } from './pool-stages';
import type { StageOutcome, StageProgress } from './stage-events';

/**
 * The pool side of stages 3–6 from outside the corporate network (docs/pool/external.md), one
 * function per stage as in pool-stages.ts, for the stage table (a job whose spec says
 * `network: 'external'`) and for runExternalPoolBootstrap. Stages 7–9 are pool-stages.ts's own
 * (webTicketStage, issueCertificate, registerWithRegistrar) over an externalHttpClient.
 */

export type ClientCertificate = { readonly certPem: string; readonly keyPem: string };

/**
 * The HTTP client of the external path: trusts the saved chain only, https only
 * (EXTERNAL_PLAIN_HTTP_REFUSED otherwise), presenting `certificate` when given. Close it after use.
 */
export function externalHttpClient(
  chainPems: readonly string[],
  resolver: PoolResolver,
  options: Omit<PoolHttpOptions, 'resolver' | 'extraCaPems' | 'baseRoots' | 'clientCertificate'> = {},
  certificate?: ClientCertificate,
): ExternalHttpClient {
  return new ExternalHttpClient({ ...options, resolver, extraCaPems: chainPems, baseRoots: [], ...(certificate ? { clientCertificate: certificate } : {}) });
}

// ------------------------------------------------------------------------------------ stage 3

export interface ExternalDeviceUpdateInput {
  /** The internal sign-in facts as stored (checked here); null/undefined: never signed in inside. */
  readonly facts: unknown;
  readonly serial?: string;
  /** The external DNS. */
  readonly resolver: PoolResolver;
  readonly connectTimeoutMs: number;
}

/** Stage 3 outside: the facts gate, then the external Device Update host through the external DNS. */
export async function findExternalDeviceUpdateStage(
  input: ExternalDeviceUpdateInput,
  progress: StageProgress,
): Promise<StageOutcome<DeviceUpdateFound> & { readonly facts: InternalSignInFacts }> {
  const facts = requireInternalSignIn(input.facts, input.serial === undefined ? {} : { serial: input.serial });
  const found = await findDeviceUpdateStage(
    { domain: facts.domain, resolver: input.resolver, explicitUrl: new URL(facts.deviceUpdateExternalUrl), connectTimeoutMs: input.connectTimeoutMs },
    progress,
  );
  return {
    facts,
    value: found.value,
    summary: `${found.value.fqdn} → ${found.value.addresses.join(', ')} (external Device Update URL from the internal sign-in of ${facts.signedInAt}); accepts connections`,
  };
}

// ------------------------------------------------------------------------------------ stage 4

export interface ExternalUpdateCheck extends UpdateCheck {
  /** True when the anonymous request was refused and the certificate retry answered. */
  readonly authenticated: boolean;
  /** Which certificate authenticated: the internal sign-in's, or the one stage 8 just issued. */
  readonly certificate: 'internal-sign-in' | 'this-run' | null;
}

export interface ExternalUpdateStageInput {
  readonly facts: InternalSignInFacts;
  readonly identity: DeviceIdentity;
  readonly runningVersion: string;
  readonly resolver: PoolResolver;
  readonly httpOptions?: Omit<PoolHttpOptions, 'resolver' | 'extraCaPems' | 'baseRoots' | 'clientCertificate'>;
  /** The certificate to authenticate with, and whose it is; null: none at hand. */
  readonly certificate: ClientCertificate | null;
  readonly which: 'internal-sign-in' | 'this-run';
}

/** Stage 4 outside: RequestHandlerExt, anonymous first, then over TLS with the certificate [S19]. */
export async function checkExternalUpdateStage(input: ExternalUpdateStageInput, progress: StageProgress): Promise<StageOutcome<ExternalUpdateCheck>> {
  const { facts, identity } = input;
  if (input.which === 'internal-sign-in' && input.certificate !== null && !isFactsCertificate(facts, input.certificate.certPem)) {
    throw new TetherError('EXTERNAL_FACTS_INVALID', 'The certificate at hand is not the one the internal sign-in issued.', { stage: 'check-update' });
  }
  const anonymous = externalHttpClient(facts.chain.pems, input.resolver, input.httpOptions);
  const authenticated = input.certificate ? externalHttpClient(facts.chain.pems, input.resolver, input.httpOptions, input.certificate) : null;
  try {
    progress(`asking ${new URL(facts.deviceUpdateExternalUrl).host} (anonymous first, then with the certificate)`);
    const got = await checkExternalUpdate({ url: facts.deviceUpdateExternalUrl, identity, anonymous, authenticated });
    const id = { vendor: identity.vendor, model: identity.model, revision: identity.revision, locale: identity.locale, mac: identity.mac, serial: identity.serial, runningVersion: input.runningVersion };
    const value: ExternalUpdateCheck = {
      identity: id,
      offered: got.answer.modules,
      baseUrl: got.answer.externalBaseUrl,
      downloaded: [],
      authenticated: got.authenticated,
      certificate: got.authenticated ? input.which : null,
    };
    const whose = input.which === 'this-run' ? 'the certificate issued in stage 8' : 'the internal sign-in\'s certificate';
    const how = got.anonymousRefused ? `anonymous refused, answered over TLS with ${whose}` : 'answered';
    const offer = got.answer.modules.length === 0 ? 'no update offered' : `offers ${got.answer.modules.map((m) => `${m.fileName} ${m.version}`).join(', ')}`;
    return { value, summary: `RequestHandlerExt ${how}: ${offer} for ${identity.vendor} ${identity.model}` };
  } finally {
    anonymous.close();
    authenticated?.close();
  }
}

// ------------------------------------------------------------------------------------ stage 5

/** Stage 5 outside: the external SIP records and A fallbacks; the Web Services URL is the facts'. */
export function findExternalRegistrarStage(
  input: { readonly facts: InternalSignInFacts; readonly resolver: PoolResolver; readonly random?: RandomSource },
  progress: StageProgress,
): Promise<StageOutcome<RegistrarFound>> {
  return findRegistrarStage(
    {
      domain: input.facts.domain,
      resolver: input.resolver,
      dhcp: null,
      dhcpProblem: 'not used outside the corporate network',
      webServicesUrl: input.facts.webServices.externalUrl,
      webServicesSource: 'internal-sign-in',
      steps: EXTERNAL_REGISTRAR_STEPS,
      ...(input.random ? { random: input.random } : {}),
    },
    progress,
  );
}

// ------------------------------------------------------------------------------------ stage 6

/** Stage 6 outside: the saved chain against the external Web Services' TLS (no download). */
export async function externalChainStage(
  input: { readonly facts: InternalSignInFacts; readonly resolver: PoolResolver; readonly now: () => Date; readonly connectTimeoutMs: number },
  progress: StageProgress,
): Promise<StageOutcome<ExternalChain>> {
  progress(`checking ${input.facts.webServices.externalFqdn}'s TLS certificate against the saved chain`);
  const value = await verifyExternalChain({ facts: input.facts, lookup: input.resolver.lookup, now: input.now, timeoutMs: input.connectTimeoutMs });
  return {
    value,
    summary: `root '${value.rootSubject}' (saved at the internal sign-in) + ${plural(value.intermediates.length, 'intermediate')}; ${value.server} verifies against it (no anonymous download outside)`,
  };
}
