import { X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { TetherError } from '../../common/errors';
import { fqdnProblem } from '../../common/pool/dhcp-options';
import { BUILT_IN_CATALOGUE, findModel, type PhoneModel } from '../../native/usb/catalogue';
import type { IssuedWebTicket, WebTicketAuth } from '../pool/auth/webticket';
import { normaliseFingerprint } from '../pool/chain';
import type { DhcpPoolAnswer } from '../pool/discovery/dhcp-answer';
import type { RandomSource } from '../pool/discovery/srv-order';
import { PoolHttpClient, type PoolHttpOptions } from '../pool/net/http';
import type { PoolResolver } from '../pool/net/resolver';
import { registerWithRegistrar, type RegistrationResult } from '../pool/sip';
import { DEVICE_UPDATE_PATH, ImageCache } from '../pool/update';
import { ensureFreeSpace } from '../pool/update/download';
import { makeTempFolder, sweepStaleTempFolders } from '../temp-folders';
import { offerBytes } from '../../common/pool/device-update-wire';
import {
  askDeviceUpdate,
  findDeviceUpdateStage,
  findRegistrarStage,
  issueCertificate,
  obtainChainStage,
  offeredBaseUrl,
  plural,
  tlsRegistrarOf,
  webTicketStage,
  type AuthDone,
  type ChainFound,
  type DeviceUpdateFound,
  type DownloadedImage,
  type RegistrarFound,
  type UpdateCheck,
} from './pool-stages';
import type { StageId } from '../../common/stages';
import { StageRunner, type StageListener, type StageOutcome, type StageProgress } from './stage-events';
import { checkIssuedCertificate, makeThrowawayKey, type IssuedCheck, type ThrowawayKey } from './throwaway-key';

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
  /**
   * The throw-away key of stage 8; default one made (and disposed) by the run. A caller that
   * passes one keeps it and disposes it itself (e.g. to sign in from outside with the certificate).
   */
  readonly key?: ThrowawayKey;
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

/** A locally administered MAC ("TETHER" in ASCII, with the local bit set) and a serial that says what it is. */
export const STAND_IN_MAC = '02-45-54-48-45-52';
export const STAND_IN_SERIAL = 'TETHER-TEST-BOOTSTRAP';

export function modelFor(id: string): PhoneModel {
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
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const { resolver } = options;
  const runner = new StageRunner(listener, () => now().getTime());
  const createHttp = options.createHttpClient ?? ((o: PoolHttpOptions) => new PoolHttpClient(o));
  const makeHttp = (extraCaPems: readonly string[], baseRoots?: readonly string[]) => createHttp({ ...options.httpOptions, resolver, extraCaPems, ...(baseRoots ? { baseRoots } : {}) });
  // Stages 3–6: anonymous; an explicit trusted-root file also covers an https Device Update URL.
  const anonymous = makeHttp(options.trust?.rootPems ?? []);
  // Each stage's value goes to `partial` before its stage-end event, so a listener can show it at once.
  const step = <K extends keyof PoolBootstrapResult>(
    stage: StageId,
    key: K,
    work: (progress: StageProgress) => Promise<StageOutcome<NonNullable<PoolBootstrapResult[K]>>>,
  ): Promise<NonNullable<PoolBootstrapResult[K]>> =>
    runner.run(stage, async (progress) => {
      const outcome = await work(progress);
      if (options.partial) options.partial[key] = outcome.value;
      return outcome;
    });
  let pool: PoolHttpClient | undefined;
  let key: ThrowawayKey | undefined;
  let ticket: IssuedWebTicket | undefined;

  try {
    // Stage 3: ucupdates-r2.<domain> (A record) [S16][S19], or the URL from in-band provisioning.
    const deviceUpdate = await step('find-update', 'deviceUpdate', (progress) =>
      findDeviceUpdateStage({ domain, resolver, explicitUrl: explicitDeviceUpdate, httpPort: options.httpPort, connectTimeoutMs }, progress),
    );

    // Stage 4: what the pool offers this model (the CX600 catalogue identity unless told otherwise).
    const update = await step('check-update', 'update', async (progress) => {
      const runningVersion = options.phone?.runningVersion ?? model.firmwareVersion;
      const { identity, answer } = await askDeviceUpdate(
        { url: deviceUpdate.url, model, phone: { serial: options.phone?.serial ?? STAND_IN_SERIAL, mac: options.phone?.mac ?? STAND_IN_MAC, runningVersion }, http: anonymous },
        progress,
      );
      const downloaded: DownloadedImage[] = [];
      if (options.download && answer.modules.length > 0) {
        const base = offeredBaseUrl(answer);
        // Removed below whatever happens; a run killed mid-download leaves it to the next run's sweep.
        await sweepStaleTempFolders('test-bootstrap');
        const dir = await makeTempFolder('test-bootstrap');
        try {
          // The whole offer before the first byte (each download checks its own file again).
          await ensureFreeSpace(dir, offerBytes(answer.modules), {});
          const cache = new ImageCache(dir);
          for (const [i, m] of answer.modules.entries()) {
            progress(`downloading ${m.fileName} ${m.version}`, i / answer.modules.length);
            // The files live in a temporary folder removed below: report what was verified, not paths.
            const { path: _path, signature, ...image } = await cache.get(identity, m, base, { http: anonymous });
            const { path: _sigPath, ...signatureFacts } = signature;
            downloaded.push({ ...image, signature: signatureFacts });
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      const id = { vendor: identity.vendor, model: identity.model, revision: identity.revision, locale: identity.locale, mac: identity.mac, serial: identity.serial, runningVersion };
      const value: UpdateCheck = { identity: id, offered: answer.modules, baseUrl: answer.baseUrl, downloaded };
      const what = `${model.vendor} ${model.id} ${identity.revision} ${identity.locale} running ${runningVersion}`;
      const summary =
        answer.modules.length === 0
          ? `no update offered for ${what}`
          : `offers ${answer.modules.map((m) => `${m.fileName} ${m.version} (${m.size} bytes)`).join(', ')} for ${what}` +
            (options.download ? `; downloaded and verified (SHA-256) ${plural(downloaded.length, 'file')}` : '; not downloaded (add --download)');
      return { value, summary };
    });

    // Stage 5: the Registrar in the vendor's six-step order (then the A-record fallbacks), and the Web Services URL.
    const discovery = await step('registrar', 'discovery', (progress) =>
      findRegistrarStage(
        {
          domain,
          resolver,
          dhcp: options.dhcp ?? null,
          dhcpProblem: options.dhcp === undefined && !options.askDhcp ? 'not asked (add --dhcp-inform IFACE)' : null,
          ...(options.askDhcp ? { askDhcp: options.askDhcp } : {}),
          ...(options.webServicesUrl === undefined ? {} : { webServicesUrl: options.webServicesUrl }),
          httpsPort: options.httpsPort,
          ...(options.random ? { random: options.random } : {}),
        },
        progress,
      ),
    );

    // Stage 6: the chain over anonymous HTTP, checked against the pool's TLS certificate, then trusted (or not).
    const chain = await step('ca-chain', 'chain', (progress) =>
      obtainChainStage(
        {
          webServicesUrl: discovery.webServices.url,
          http: anonymous,
          resolver,
          httpPort: options.httpPort,
          now,
          connectTimeoutMs,
          pinnedFingerprints,
          fileRoots,
          ...(options.trust?.osRoots ? { osRoots: options.trust.osRoots } : {}),
        },
        progress,
      ),
    );

    // Stages 7–8 trust the Web Services' HTTPS through the stage-6 chain, as the phone does.
    // From here on the pool is trusted the way the phone trusts it: through the validated stage-6
    // chain only, not through every root this PC happens to know.
    pool = makeHttp(chain.pems, []);
    const poolHttp = pool;

    const auth = await step('auth', 'auth', (progress) =>
      webTicketStage(
        {
          http: poolHttp,
          webServicesUrl: discovery.webServices.url,
          auth: options.auth,
          ...(options.sipUri === undefined ? {} : { sipUri: options.sipUri }),
          now,
          keep: (t) => (ticket = t),
        },
        progress,
      ),
    );

    const certificate = await step('certificate', 'certificate', async (progress) => {
      progress('making a throw-away RSA-2048 key and request in memory');
      key = options.key ?? makeThrowawayKey();
      const csrPem = key.csrFor(auth.sipUri);
      const issued = await issueCertificate({ http: poolHttp, auth, ticket: ticket!, csrPem, ...(options.deviceId === undefined ? {} : { deviceId: options.deviceId }), now }, progress);
      const check = checkIssuedCertificate(issued.certificatePem, key.publicKeyPem, chain.pems, now());
      const value: CertificateDone = { ...check, certificatePem: issued.certificatePem, chainPems: issued.chainPems };
      return { value, summary: `issued and published '${check.subject}' (serial ${check.serial}, until ${check.notAfter}); it carries the request's key and chains to the stage-6 root` };
    });
    ticket?.dispose();
    ticket = undefined;

    let logon: PoolBootstrapResult['logon'] = null;
    if (options.register) {
      logon = await step('logon', 'logon', async (progress) => {
        const tls = tlsRegistrarOf(discovery);
        if (!tls) {
          throw new TetherError('REGISTRAR_UNREACHABLE', 'No TLS Registrar was found in stage 5; a phone signs in over TLS only.', { detail: { registrar: discovery.registrar.host } });
        }
        progress(`REGISTER to ${tls.host}:${tls.port}, authenticating with TLS-DSK and the issued certificate`);
        const result = await registerWithRegistrar({
          registrar: { host: tls.host, port: tls.port },
          sipUri: auth.sipUri,
          caPems: chain.pems,
          clientCertificate: { certPem: certificate.certificatePem, keyPem: key!.privateKeyPem() },
          lookup: resolver.lookup,
          ...(options.registerTimeoutMs === undefined ? {} : { timeoutMs: options.registerTimeoutMs }),
        });
        const { elapsedMs: _elapsed, ...value } = result;
        const sa = result.securityAssociation;
        const how = sa ? `, TLS-DSK inner ${sa.innerTls} ${sa.cipher}` : ', no authentication asked';
        return { value, summary: `registered ${result.sipUri} at ${result.registrar} (${result.tlsProtocol ?? 'TLS'}${how}, expires ${result.expires ?? '?'} s)` };
      });
    }
    return { deviceUpdate, update, discovery, chain, auth, certificate, logon };
  } finally {
    ticket?.dispose();
    if (key !== options.key) key?.dispose();
    anonymous.close();
    pool?.close();
  }
}
