import { X509Certificate } from 'node:crypto';
import { TetherError } from '../../common/errors';
import { fqdnProblem } from '../../common/pool/dhcp-options';
import { BUILT_IN_CATALOGUE, findModel, type PhoneModel } from '../../native/usb/catalogue';
import type { WebTicketAuth } from '../pool/auth/webticket';
import { normaliseFingerprint } from '../pool/chain';
import type { DhcpPoolAnswer } from '../pool/discovery/dhcp-answer';
import type { RandomSource } from '../pool/discovery/srv-order';
import { PoolHttpClient, type PoolHttpOptions } from '../pool/net/http';
import type { PoolResolver } from '../pool/net/resolver';
import type { RegistrationResult } from '../pool/sip';
import { DEVICE_UPDATE_PATH } from '../pool/update';
import type { AuthDone, ChainFound, DeviceUpdateFound, RegistrarFound, UpdateCheck } from './pool-stages';
import { POOL_STAGES, type PoolRun } from './stages';
import { StageRunner, type StageListener } from './stage-events';
import type { IssuedCheck } from './throwaway-key';

/**
 * Stages 3–8 (and optionally 9) against a pool, with no phone: what `tether test-bootstrap` runs,
 * in the spirit of Lync's Test-CsPhoneBootstrap. Every stage is one StageRunner step, so a failure
 * is reported as the stage a phone would have stopped at. Trust flows as on a phone: stages 3–6
 * are anonymous (HTTP, plus the TLS check of stage 6 against the chain it just downloaded), and
 * stages 7–9 trust the pool's HTTPS and SIP/TLS only through the chain validated in stage 6.
 */

export interface PhoneStandIn {
  /** Catalogue model id (default CX600). */
  readonly model?: string;
  /** MAC and serial the Device Update request carries; defaults are a locally administered test identity. */
  readonly mac?: string;
  readonly serial?: string;
  /** Version the "phone" reports running (default: the model's catalogue firmware). */
  readonly runningVersion?: string;
}

export interface BootstrapTrust {
  /** Root fingerprints (SHA-256) the user accepts. */
  readonly rootFingerprints?: readonly string[];
  /** Root certificates (PEM) the user accepts, e.g. from --trust-root FILE. */
  readonly rootPems?: readonly string[];
  /** The OS store (PEM); default Node's bundled roots. Tests inject []. */
  readonly osRoots?: readonly string[];
}

export interface PoolBootstrapOptions {
  /** The user's SIP domain. */
  readonly domain: string;
  readonly resolver: PoolResolver;
  /** PIN (number or extension + PIN) or NTLM; the secrets are used for stage 7 only. */
  readonly auth: WebTicketAuth;
  /** The user's SIP URI; required with NTLM. */
  readonly sipUri?: string;
  /** The pool's web ports when they are not 80/443 (the lab takes free ones). */
  readonly httpPort?: number;
  readonly httpsPort?: number;
  /** Device Update URL from in-band provisioning or configuration; default ucupdates-r2.<domain> over HTTP [S19][S21]. */
  readonly deviceUpdateUrl?: string;
  /** Web Services (CertProv) URL from DHCP option 43 or configuration; default derived from the Registrar FQDN. */
  readonly webServicesUrl?: string;
  /** A DHCPINFORM answer (options 43/120) already at hand. */
  readonly dhcp?: DhcpPoolAnswer | null;
  /** Asks DHCP (a DHCPINFORM) during stage 5; a failure is shown on the DHCP steps and DNS carries on. */
  readonly askDhcp?: () => Promise<DhcpPoolAnswer>;
  readonly phone?: PhoneStandIn;
  readonly trust?: BootstrapTrust;
  /** Download and verify offered update images (into a temporary folder, removed afterwards). */
  readonly download?: boolean;
  /** Stage 9: SIP REGISTER over TLS with the issued certificate. */
  readonly register?: boolean;
  readonly deviceId?: string;
  /** Clock for events and certificate dates. */
  readonly now?: () => Date;
  readonly random?: RandomSource;
  /** Timeouts, retries, sleep for the pool HTTP clients; resolver and CAs are set here. */
  readonly httpOptions?: Omit<PoolHttpOptions, 'resolver' | 'extraCaPems'>;
  /**
   * Makes a pool HTTP client. Called twice: for the anonymous stages 3–6, and for stages 7–8 with
   * the stage-6 chain as `extraCaPems`. Default `new PoolHttpClient(options)`.
   */
  readonly createHttpClient?: (options: PoolHttpOptions) => PoolHttpClient;
  /** Connect timeout of the stage-3 reachability check and the stage-6 TLS check. */
  readonly connectTimeoutMs?: number;
  readonly registerTimeoutMs?: number;
  /** Filled in as each stage succeeds (before its stage-end event), so a caller still has stage 5's candidates when stage 7 fails. */
  readonly partial?: PartialBootstrapResult;
}

export type PartialBootstrapResult = { -readonly [K in keyof PoolBootstrapResult]?: PoolBootstrapResult[K] };

export type { AuthDone, ChainFound, DeviceUpdateFound, RegistrarFound, UpdateCheck } from './pool-stages';

export interface CertificateDone extends IssuedCheck {
  readonly certificatePem: string;
  readonly chainPems: string[];
}

export interface PoolBootstrapResult {
  readonly deviceUpdate: DeviceUpdateFound;
  readonly update: UpdateCheck;
  readonly discovery: RegistrarFound;
  readonly chain: ChainFound;
  readonly auth: AuthDone;
  readonly certificate: CertificateDone;
  readonly logon: Omit<RegistrationResult, 'elapsedMs'> | null;
}

export { STAND_IN_MAC, STAND_IN_SERIAL } from './stages/pool-types';

function modelFor(id: string): PhoneModel {
  const model = findModel(id);
  if (!model) {
    throw new TetherError('BAD_INPUT', `Unknown phone model '${id.slice(0, 40)}'; known: ${BUILT_IN_CATALOGUE.models.map((m) => m.id).join(', ')}.`);
  }
  return model;
}

function fingerprintsOfPems(pems: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const pem of pems) {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    for (const block of blocks) {
      try {
        out.add(new X509Certificate(block).fingerprint256);
      } catch (cause) {
        throw new TetherError('BAD_INPUT', 'A certificate in the trusted-root file cannot be read.', { cause });
      }
    }
  }
  return out;
}

/** A URL given by the user (checked before any stage runs, so a typo is a usage error). */
function webUrl(text: string, schemes: readonly string[], what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new TetherError('BAD_INPUT', `The ${what} URL is not a URL: '${text.slice(0, 200)}'.`, { cause });
  }
  if (!schemes.includes(url.protocol)) throw new TetherError('BAD_INPUT', `The ${what} URL must be ${schemes.join(' or ')}, not '${text.slice(0, 200)}'.`);
  return url;
}

/** Runs stages 3–8 (9 with `register`) and reports each through `listener`; throws the typed error of the stage that failed. */
export async function runPoolBootstrap(options: PoolBootstrapOptions, listener: StageListener): Promise<PoolBootstrapResult> {
  const now = options.now ?? (() => new Date());
  const domain = options.domain.replace(/\.$/, '').toLowerCase();
  const problem = fqdnProblem(domain);
  if (problem) throw new TetherError('BAD_INPUT', `'${options.domain.slice(0, 100)}' is not a SIP domain: ${problem}.`);
  if (options.auth.kind === 'ntlm' && options.sipUri === undefined) throw new TetherError('BAD_INPUT', 'Windows (NTLM) sign-in needs the user\'s SIP URI.');
  const model = modelFor(options.phone?.model ?? 'CX600');
  const pinnedFingerprints = (options.trust?.rootFingerprints ?? []).map(normaliseFingerprint);
  const fileRoots = fingerprintsOfPems(options.trust?.rootPems ?? []);
  const explicitDeviceUpdate = options.deviceUpdateUrl === undefined ? null : webUrl(options.deviceUpdateUrl, ['http:', 'https:'], 'Device Update');
  if (explicitDeviceUpdate && (explicitDeviceUpdate.pathname === '/' || explicitDeviceUpdate.pathname === '')) explicitDeviceUpdate.pathname = DEVICE_UPDATE_PATH;
  if (options.webServicesUrl !== undefined) webUrl(options.webServicesUrl, ['https:'], 'Web Services');
  const runner = new StageRunner(listener, () => now().getTime());
  const createHttp = options.createHttpClient ?? ((o: PoolHttpOptions) => new PoolHttpClient(o));
  const makeHttp = (extraCaPems: readonly string[], baseRoots?: readonly string[]) => createHttp({ ...options.httpOptions, resolver: options.resolver, extraCaPems, ...(baseRoots ? { baseRoots } : {}) });
  // Stages 3–6: anonymous; an explicit trusted-root file also covers an https Device Update URL.
  const anonymous = makeHttp(options.trust?.rootPems ?? []);
  const facts: PoolRun['facts'] = options.partial ?? {};
  let pool: PoolHttpClient | undefined;
  const run: PoolRun = {
    options,
    domain,
    model,
    pinnedFingerprints,
    fileRoots,
    explicitDeviceUpdate,
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    now,
    facts,
    anonymous,
    // From stage 7 on the pool is trusted the way the phone trusts it: through the validated
    // stage-6 chain only, not through every root this PC happens to know.
    pool: () => (pool ??= makeHttp(facts.chain!.pems, [])),
    ticket: undefined,
    key: undefined,
  };
  try {
    for (const stage of POOL_STAGES) {
      if (stage.when && !stage.when(run)) continue;
      // Each stage's value goes to `partial` before its stage-end event, so a listener can show it at once.
      await runner.run(stage.id, async (progress) => {
        const outcome = await stage.run(run, progress);
        (facts as Record<string, unknown>)[stage.key] = outcome.value;
        return outcome;
      });
    }
    const { deviceUpdate, update, discovery, chain, auth, certificate } = facts;
    return { deviceUpdate: deviceUpdate!, update: update!, discovery: discovery!, chain: chain!, auth: auth!, certificate: certificate!, logon: facts.logon ?? null };
  } finally {
    run.ticket?.dispose();
    run.key?.dispose();
    anonymous.close();
    pool?.close();
  }
}
