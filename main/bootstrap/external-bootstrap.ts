import { TetherError } from '../../common/errors';
import type { StageId } from '../../common/stages';
import type { IssuedWebTicket, WebTicketAuth } from '../pool/auth/webticket';
import { EXTERNAL_REGISTRAR_STEPS } from '../pool/discovery/registrar';
import type { RandomSource } from '../pool/discovery/srv-order';
import {
  checkExternalUpdate,
  ExternalHttpClient,
  internalSignInFacts,
  isFactsCertificate,
  requireInternalSignIn,
  verifyExternalChain,
  type ExternalChain,
  type InternalSignInFacts,
} from '../pool/external';
import type { PoolHttpOptions } from '../pool/net/http';
import type { PoolResolver } from '../pool/net/resolver';
import { registerWithRegistrar } from '../pool/sip';
import { deviceUpdateIdentity } from '../pool/update';
import type { CertificateDone, PhoneStandIn, PoolBootstrapResult } from './pool-bootstrap';
import { modelFor, STAND_IN_MAC, STAND_IN_SERIAL } from './pool-bootstrap';
import {
  findDeviceUpdateStage,
  findRegistrarStage,
  issueCertificate,
  plural,
  tlsRegistrarOf,
  webTicketStage,
  type AuthDone,
  type DeviceUpdateFound,
  type RegistrarFound,
  type UpdateCheck,
} from './pool-stages';
import { StageRunner, type StageListener, type StageOutcome, type StageProgress } from './stage-events';
import { checkIssuedCertificate, makeThrowawayKey, type ThrowawayKey } from './throwaway-key';

/**
 * Stages 3–9 from OUTSIDE the corporate network, with no phone (docs/pool/external.md): what a
 * phone that signed in internally once does at home. Everything comes from the internal sign-in's
 * facts and the external DNS: the external Device Update URL (stage 3), RequestHandlerExt with the
 * anonymous → authenticated retry (4), the external SIP records (5), the saved chain checked
 * against the external Web Services' TLS (6), web ticket and certificate over the external Web
 * Services, TLS only (7, 8), and REGISTER at the edge name (9). Without facts, stage 3 fails with
 * EXTERNAL_NEEDS_INTERNAL_SIGN_IN. Without a certificate from the internal sign-in at hand, stage 4
 * runs after stage 8 with the new certificate (the vendor's "check for updates afterwards").
 */

export interface ExternalBootstrapOptions {
  /** The internal sign-in facts (from the journal or an internal run); null/undefined: never signed in inside. */
  readonly facts: unknown;
  /** The EXTERNAL view's DNS. */
  readonly resolver: PoolResolver;
  readonly auth: WebTicketAuth;
  readonly sipUri?: string;
  /** The certificate (and key) from the internal sign-in, for authenticated HTTPS in stage 4. */
  readonly heldCertificate?: { readonly certPem: string; readonly keyPem: string } | null;
  readonly phone?: PhoneStandIn;
  /** Stage 9: REGISTER at the external Registrar (default true). */
  readonly register?: boolean;
  readonly deviceId?: string;
  readonly now?: () => Date;
  readonly random?: RandomSource;
  /** Timeouts, retries and sleep of the external HTTP clients (resolver and CAs are set here). */
  readonly httpOptions?: Omit<PoolHttpOptions, 'resolver' | 'extraCaPems' | 'baseRoots' | 'clientCertificate'>;
  readonly connectTimeoutMs?: number;
  readonly registerTimeoutMs?: number;
  readonly partial?: PartialExternalResult;
}

export interface ExternalUpdateCheck extends UpdateCheck {
  /** True when the anonymous request was refused and the certificate retry answered. */
  readonly authenticated: boolean;
  /** Which certificate authenticated: the internal sign-in's, or the one stage 8 just issued. */
  readonly certificate: 'internal-sign-in' | 'this-run' | null;
}

export interface ExternalBootstrapResult {
  readonly facts: InternalSignInFacts;
  readonly deviceUpdate: DeviceUpdateFound;
  readonly update: ExternalUpdateCheck;
  readonly discovery: RegistrarFound;
  readonly chain: ExternalChain;
  readonly auth: AuthDone;
  readonly certificate: CertificateDone;
  readonly logon: PoolBootstrapResult['logon'];
}

export type PartialExternalResult = { -readonly [K in keyof ExternalBootstrapResult]?: ExternalBootstrapResult[K] };

/** The internal sign-in facts of a `runPoolBootstrap` run that signed in (stage 9 gives the in-band URLs). */
export function factsFromPoolBootstrap(result: PoolBootstrapResult, signedInAt: Date, domain: string): InternalSignInFacts {
  if (result.logon === null) {
    throw new TetherError('EXTERNAL_NEEDS_INTERNAL_SIGN_IN', 'The internal run did not sign in (stage 9), so it learnt no external addresses; run it with register.');
  }
  return internalSignInFacts({
    domain,
    sipUri: result.auth.sipUri,
    authMethod: result.auth.method,
    deviceUpdateExternalUrl: result.logon.provisioning.deviceUpdateExternalUrl,
    chainPems: result.chain.pems,
    certificatePem: result.certificate.certificatePem,
    signedInAt,
  });
}

export async function runExternalPoolBootstrap(options: ExternalBootstrapOptions, listener: StageListener): Promise<ExternalBootstrapResult> {
  const now = options.now ?? (() => new Date());
  const model = modelFor(options.phone?.model ?? 'CX600');
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const { resolver } = options;
  const runner = new StageRunner(listener, () => now().getTime());
  const step = <K extends keyof ExternalBootstrapResult>(
    stage: StageId,
    key: K,
    work: (progress: StageProgress) => Promise<StageOutcome<NonNullable<ExternalBootstrapResult[K]>>>,
  ): Promise<NonNullable<ExternalBootstrapResult[K]>> =>
    runner.run(stage, async (progress) => {
      const outcome = await work(progress);
      if (options.partial) options.partial[key] = outcome.value;
      return outcome;
    });
  const clients: ExternalHttpClient[] = [];
  const client = (chain: readonly string[], cert?: { certPem: string; keyPem: string }) => {
    // Trusted: the chain saved at the internal sign-in, nothing else; https only.
    const c = new ExternalHttpClient({ ...options.httpOptions, resolver, extraCaPems: chain, baseRoots: [], ...(cert ? { clientCertificate: cert } : {}) });
    clients.push(c);
    return c;
  };
  let key: ThrowawayKey | undefined;
  let ticket: IssuedWebTicket | undefined;
  let facts!: InternalSignInFacts;

  const runningVersion = options.phone?.runningVersion ?? model.firmwareVersion;
  const identity = deviceUpdateIdentity(model, { serial: options.phone?.serial ?? STAND_IN_SERIAL, mac: options.phone?.mac ?? STAND_IN_MAC, runningVersion });
  const updateStage = (cert: { certPem: string; keyPem: string } | null, which: ExternalUpdateCheck['certificate']) =>
    step('check-update', 'update', async (progress) => {
      progress(`asking ${new URL(facts.deviceUpdateExternalUrl).host} (anonymous first, then with the certificate)`);
      const got = await checkExternalUpdate({
        url: facts.deviceUpdateExternalUrl,
        identity,
        anonymous: client(facts.chain.pems),
        authenticated: cert ? client(facts.chain.pems, cert) : null,
      });
      const id = { vendor: identity.vendor, model: identity.model, revision: identity.revision, locale: identity.locale, mac: identity.mac, serial: identity.serial, runningVersion };
      const value: ExternalUpdateCheck = {
        identity: id,
        offered: got.answer.modules,
        baseUrl: got.answer.externalBaseUrl,
        downloaded: [],
        authenticated: got.authenticated,
        certificate: got.authenticated ? which : null,
      };
      const how = got.anonymousRefused ? `anonymous refused, answered over TLS with the ${which === 'this-run' ? 'certificate issued in stage 8' : 'internal sign-in\'s certificate'}` : 'answered';
      const offer = got.answer.modules.length === 0 ? 'no update offered' : `offers ${got.answer.modules.map((m) => `${m.fileName} ${m.version}`).join(', ')}`;
      return { value, summary: `RequestHandlerExt ${how}: ${offer} for ${model.vendor} ${model.id}` };
    });

  try {
    const deviceUpdate = await step('find-update', 'deviceUpdate', async (progress) => {
      facts = requireInternalSignIn(options.facts, options.phone?.serial === undefined ? {} : { serial: options.phone.serial });
      if (options.partial) options.partial.facts = facts;
      const found = await findDeviceUpdateStage(
        { domain: facts.domain, resolver, explicitUrl: new URL(facts.deviceUpdateExternalUrl), connectTimeoutMs },
        progress,
      );
      return { value: found.value, summary: `${found.value.fqdn} → ${found.value.addresses.join(', ')} (external Device Update URL from the internal sign-in of ${facts.signedInAt}); accepts connections` };
    });
    const held = options.heldCertificate ?? null;
    if (held !== null && !isFactsCertificate(facts, held.certPem)) {
      throw new TetherError('EXTERNAL_FACTS_INVALID', 'The certificate at hand is not the one the internal sign-in issued.', { stage: 'check-update' });
    }
    let update = held === null ? undefined : await updateStage(held, 'internal-sign-in');

    const discovery = await step('registrar', 'discovery', (progress) =>
      findRegistrarStage(
        {
          domain: facts.domain,
          resolver,
          dhcp: null,
          dhcpProblem: 'not used outside the corporate network',
          webServicesUrl: facts.webServices.externalUrl,
          webServicesSource: 'internal-sign-in',
          steps: EXTERNAL_REGISTRAR_STEPS,
          ...(options.random ? { random: options.random } : {}),
        },
        progress,
      ),
    );

    const chain = await step('ca-chain', 'chain', async (progress) => {
      progress(`checking ${facts.webServices.externalFqdn}'s TLS certificate against the saved chain`);
      const value = await verifyExternalChain({ facts, lookup: resolver.lookup, now, timeoutMs: connectTimeoutMs });
      return { value, summary: `root '${value.rootSubject}' (saved at the internal sign-in) + ${plural(value.intermediates.length, 'intermediate')}; ${value.server} verifies against it (no anonymous download outside)` };
    });

    const pool = client(chain.pems);
    const auth = await step('auth', 'auth', (progress) =>
      webTicketStage(
        { http: pool, webServicesUrl: facts.webServices.externalUrl, auth: options.auth, ...(options.sipUri === undefined ? {} : { sipUri: options.sipUri }), now, keep: (t) => (ticket = t) },
        progress,
      ),
    );

    const certificate = await step('certificate', 'certificate', async (progress) => {
      progress('making a throw-away RSA-2048 key and request in memory');
      key = makeThrowawayKey();
      const issued = await issueCertificate({ http: pool, auth, ticket: ticket!, csrPem: key.csrFor(auth.sipUri), ...(options.deviceId === undefined ? {} : { deviceId: options.deviceId }), now }, progress);
      const check = checkIssuedCertificate(issued.certificatePem, key.publicKeyPem, chain.pems, now());
      const value: CertificateDone = { ...check, certificatePem: issued.certificatePem, chainPems: issued.chainPems };
      return { value, summary: `issued over the external Web Services: '${check.subject}' (serial ${check.serial}, until ${check.notAfter})` };
    });
    ticket?.dispose();
    ticket = undefined;
    const mine = { certPem: certificate.certificatePem, keyPem: key!.privateKeyPem() };
    update ??= await updateStage(mine, 'this-run');

    let logon: ExternalBootstrapResult['logon'] = null;
    if (options.register ?? true) {
      logon = await step('logon', 'logon', async (progress) => {
        const tls = tlsRegistrarOf(discovery);
        if (!tls) throw new TetherError('REGISTRAR_UNREACHABLE', 'No TLS Registrar was found in the external DNS; a phone signs in over TLS only.', { detail: { registrar: discovery.registrar.host } });
        progress(`REGISTER to ${tls.host}:${tls.port} with the issued certificate`);
        const result = await registerWithRegistrar({
          registrar: tls,
          sipUri: auth.sipUri,
          caPems: chain.pems,
          clientCertificate: mine,
          lookup: resolver.lookup,
          ...(options.registerTimeoutMs === undefined ? {} : { timeoutMs: options.registerTimeoutMs }),
        });
        const { elapsedMs: _elapsed, ...value } = result;
        return { value, summary: `registered ${result.sipUri} at ${result.registrar} from outside (${result.tlsProtocol ?? 'TLS'})` };
      });
    }
    return { facts, deviceUpdate, update, discovery, chain, auth, certificate, logon };
  } finally {
    ticket?.dispose();
    key?.dispose();
    for (const c of clients) c.close();
  }
}
