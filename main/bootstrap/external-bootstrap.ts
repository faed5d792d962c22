import { TetherError } from '../../common/errors';
import type { StageId } from '../../common/stages';
import type { IssuedWebTicket, WebTicketAuth } from '../pool/auth/webticket';
import type { RandomSource } from '../pool/discovery/srv-order';
import { internalSignInFacts, type ExternalChain, type ExternalHttpClient, type InternalSignInFacts } from '../pool/external';
import type { PoolHttpOptions } from '../pool/net/http';
import type { PoolResolver } from '../pool/net/resolver';
import { registerWithRegistrar } from '../pool/sip';
import { deviceUpdateIdentity } from '../pool/update';
import {
  checkExternalUpdateStage,
  externalChainStage,
  externalHttpClient,
  findExternalDeviceUpdateStage,
  findExternalRegistrarStage,
  type ClientCertificate,
  type ExternalUpdateCheck,
} from './external-stages';
import type { CertificateDone, PhoneStandIn, PoolBootstrapResult } from './pool-bootstrap';
import { modelFor, STAND_IN_MAC, STAND_IN_SERIAL } from './pool-bootstrap';
import { issueCertificate, tlsRegistrarOf, webTicketStage, type AuthDone, type DeviceUpdateFound, type RegistrarFound } from './pool-stages';
import { StageRunner, type StageListener, type StageOutcome, type StageProgress } from './stage-events';
import { checkIssuedCertificate, makeThrowawayKey, type ThrowawayKey } from './throwaway-key';

export type { ExternalUpdateCheck } from './external-stages';

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
  let key: ThrowawayKey | undefined;
  let ticket: IssuedWebTicket | undefined;
  let pool: ExternalHttpClient | undefined;
  let facts!: InternalSignInFacts;
  const runningVersion = options.phone?.runningVersion ?? model.firmwareVersion;
  const identity = deviceUpdateIdentity(model, { serial: options.phone?.serial ?? STAND_IN_SERIAL, mac: options.phone?.mac ?? STAND_IN_MAC, runningVersion });
  const updateStage = (certificate: ClientCertificate | null, which: 'internal-sign-in' | 'this-run') =>
    step('check-update', 'update', (progress) =>
      checkExternalUpdateStage({ facts, identity, runningVersion, resolver, ...(options.httpOptions ? { httpOptions: options.httpOptions } : {}), certificate, which }, progress),
    );

  try {
    const deviceUpdate = await step('find-update', 'deviceUpdate', async (progress) => {
      const found = await findExternalDeviceUpdateStage(
        { facts: options.facts, resolver, connectTimeoutMs, ...(options.phone?.serial === undefined ? {} : { serial: options.phone.serial }) },
        progress,
      );
      facts = found.facts;
      if (options.partial) options.partial.facts = facts;
      return found;
    });
    const held = options.heldCertificate ?? null;
    let update = held === null ? undefined : await updateStage(held, 'internal-sign-in');
    const discovery = await step('registrar', 'discovery', (progress) => findExternalRegistrarStage({ facts, resolver, ...(options.random ? { random: options.random } : {}) }, progress));
    const chain = await step('ca-chain', 'chain', (progress) => externalChainStage({ facts, resolver, now, connectTimeoutMs }, progress));

    pool = externalHttpClient(chain.pems, resolver, options.httpOptions);
    const http = pool;
    const auth = await step('auth', 'auth', (progress) =>
      webTicketStage(
        { http, webServicesUrl: facts.webServices.externalUrl, auth: options.auth, ...(options.sipUri === undefined ? {} : { sipUri: options.sipUri }), now, keep: (t) => (ticket = t) },
        progress,
      ),
    );
    const certificate = await step('certificate', 'certificate', async (progress) => {
      progress('making a throw-away RSA-2048 key and request in memory');
      key = makeThrowawayKey();
      const issued = await issueCertificate({ http, auth, ticket: ticket!, csrPem: key.csrFor(auth.sipUri), ...(options.deviceId === undefined ? {} : { deviceId: options.deviceId }), now }, progress);
      const check = checkIssuedCertificate(issued.certificatePem, key.publicKeyPem, chain.pems, now());
      const value: CertificateDone = { ...check, certificatePem: issued.certificatePem, chainPems: issued.chainPems };
      return { value, summary: `issued over the external Web Services: '${check.subject}' (serial ${check.serial}, until ${check.notAfter})` };
    });
    ticket?.dispose();
    ticket = undefined;
    const mine = { certPem: certificate.certificatePem, keyPem: key!.privateKeyPem() };
    // No certificate from the internal sign-in at hand: check for updates now, with the new one.
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
    pool?.close();
  }
}
