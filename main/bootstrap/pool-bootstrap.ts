import { X509Certificate, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TetherError, toTetherError } from '../../common/errors';
import type { DeviceIdentity, OfferedModule } from '../../common/pool/device-update-wire';
import { fqdnProblem } from '../../common/pool/dhcp-options';
import { BUILT_IN_CATALOGUE, findModel, type PhoneModel } from '../../native/usb/catalogue';
import { requestWebTicket, type IssuedWebTicket, type WebTicketAuth } from '../pool/auth/webticket';
import { discoverCertProvAuth } from '../pool/auth/webticket-discovery';
import { getAndPublishCert } from '../pool/certprov';
import { chainPems, normaliseFingerprint, obtainPoolChain, type PoolChain } from '../pool/chain';
import type { DhcpPoolAnswer } from '../pool/discovery/dhcp-answer';
import { CERTPROV_PATH, DEVICE_UPDATE_PREFIX } from '../pool/discovery/discover';
import { dnsReason, findRegistrar, type RegistrarCandidate, type RegistrarChoice } from '../pool/discovery/registrar';
import type { RandomSource } from '../pool/discovery/srv-order';
import { PoolHttpClient, type PoolHttpOptions } from '../pool/net/http';
import type { PoolResolver } from '../pool/net/resolver';
import { registerWithRegistrar, type RegistrationResult } from '../pool/sip';
import { checkForUpdate, deviceUpdateIdentity, DEVICE_UPDATE_PATH, ImageCache, type CachedImage } from '../pool/update';
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

export interface DeviceUpdateFound {
  readonly url: string;
  readonly source: 'dns' | 'explicit';
  readonly fqdn: string;
  readonly addresses: string[];
}

export interface UpdateCheck {
  readonly identity: Pick<DeviceIdentity, 'vendor' | 'model' | 'revision' | 'locale' | 'mac' | 'serial'> & { readonly runningVersion: string };
  readonly offered: readonly OfferedModule[];
  readonly baseUrl: string | null;
  readonly downloaded: readonly Omit<CachedImage, 'path'>[];
}

export interface RegistrarFound {
  readonly candidates: RegistrarCandidate[];
  readonly registrar: RegistrarChoice;
  readonly webServices: { readonly url: string; readonly source: 'dhcp-option-43' | 'explicit' | 'derived-from-registrar' };
  /** What DHCP said (options 43 and 120), or null with the reason in `dhcpProblem`. */
  readonly dhcp: { readonly server: string; readonly certProvUrl: string | null; readonly sipServers: string[] | null } | null;
  readonly dhcpProblem: string | null;
}

export interface ChainFound {
  readonly rootSubject: string;
  readonly rootFingerprint: string;
  readonly trust: 'os-store' | 'pinned-fingerprint' | 'trust-root-file';
  readonly intermediates: string[];
  readonly inferredFromTls: number;
  readonly sourceUrl: string;
  /** Intermediates deepest first, root last. */
  readonly pems: string[];
}

export interface AuthDone {
  readonly sipUri: string;
  readonly method: WebTicketAuth['kind'];
  readonly webTicketUrl: string;
  readonly certProvUrl: string;
  readonly ticketExpires: string;
}

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

function withPort(host: string, port: number | undefined, scheme: 'http' | 'https'): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  const standard = scheme === 'http' ? 80 : 443;
  return `${scheme}://${h}${port === undefined || port === standard ? '' : `:${port}`}`;
}

function tcpReachable(resolver: PoolResolver, host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, lookup: resolver.lookup, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', (err) => reject(err));
  });
}

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

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

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
  const makeHttp = (extraCaPems: readonly string[]) => createHttp({ ...options.httpOptions, resolver, extraCaPems });
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
    const deviceUpdate = await step('find-update', 'deviceUpdate', async (progress) => {
      let url: URL;
      let source: DeviceUpdateFound['source'];
      if (explicitDeviceUpdate !== null) {
        url = explicitDeviceUpdate;
        source = 'explicit';
      } else {
        // Internally the phone asks over plain HTTP (port 80) before it has the pool's chain [S21].
        url = new URL(`${withPort(`${DEVICE_UPDATE_PREFIX}.${domain}`, options.httpPort, 'http')}${DEVICE_UPDATE_PATH}`);
        source = 'dns';
      }
      const fqdn = url.hostname.replace(/^\[|\]$/g, '');
      progress(`looking up ${fqdn}`);
      let addresses: string[];
      if (isIP(fqdn) !== 0) addresses = [fqdn];
      else {
        try {
          addresses = await resolver.resolve4(fqdn);
        } catch (err) {
          const why = dnsReason(err);
          throw new TetherError(why.serverDown ? 'DNS_UNAVAILABLE' : 'DNS_NO_DEVICE_UPDATE', `${fqdn}: ${why.reason}.`, { stage: 'find-update', detail: { fqdn } });
        }
      }
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      progress(`connecting to ${fqdn}:${port}`);
      try {
        await tcpReachable(resolver, fqdn, port, connectTimeoutMs);
      } catch (err) {
        throw new TetherError('UPDATE_SERVICE_UNREACHABLE', `${fqdn}:${port} did not accept a connection: ${err instanceof Error ? err.message : String(err)}`, {
          detail: { url: `${url.origin}${url.pathname}` },
          cause: err,
        });
      }
      const value: DeviceUpdateFound = { url: url.toString(), source, fqdn, addresses };
      return { value, summary: `${fqdn} → ${addresses.join(', ')} (${source === 'dns' ? 'DNS A record' : 'given URL'}); ${url.origin}${url.pathname} accepts connections` };
    });


    // Stage 4: what the pool offers this model (the CX600 catalogue identity unless told otherwise).
    const update = await step('check-update', 'update', async (progress) => {
      const runningVersion = options.phone?.runningVersion ?? model.firmwareVersion;
      const identity = deviceUpdateIdentity(model, { serial: options.phone?.serial ?? STAND_IN_SERIAL, mac: options.phone?.mac ?? STAND_IN_MAC, runningVersion });
      progress(`asking for ${model.vendor} ${model.id} rev ${model.hardwareRevision} ${model.locale}, running ${runningVersion}`);
      const answer = await checkForUpdate(deviceUpdate.url, identity, { http: anonymous });
      const downloaded: Omit<CachedImage, 'path'>[] = [];
      if (options.download && answer.modules.length > 0) {
        const base = answer.baseUrl ?? answer.externalBaseUrl;
        if (base === null) throw new TetherError('UPDATE_RESPONSE_MALFORMED', 'The answer offers modules but no BaseURL.');
        const dir = await mkdtemp(join(tmpdir(), 'tether-test-bootstrap-'));
        try {
          const cache = new ImageCache(dir);
          for (const [i, m] of answer.modules.entries()) {
            progress(`downloading ${m.fileName} ${m.version}`, i / answer.modules.length);
            const { path: _path, ...image } = await cache.get(identity, m, base, { http: anonymous });
            downloaded.push(image);
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
    const discovery = await step('registrar', 'discovery', async (progress) => {
      let dhcp = options.dhcp ?? null;
      let dhcpProblem: string | null = options.dhcp === undefined && !options.askDhcp ? 'not asked (add --dhcp-inform IFACE)' : null;
      if (dhcp === null && options.askDhcp) {
        progress('asking DHCP (DHCPINFORM) for options 43 and 120');
        try {
          dhcp = await options.askDhcp();
        } catch (err) {
          // As on a phone, DNS still gives the Registrar when DHCP is silent [S13].
          dhcpProblem = toTetherError(err).message;
        }
      }
      progress('asking DNS for the SIP SRV records');
      const outcome = await findRegistrar({
        domain,
        resolver,
        dhcp,
        dhcpProblem,
        ...(options.random ? { random: options.random } : {}),
      });
      const skipped = outcome.candidates.filter((c) => c.status === 'skipped').length;
      if (!outcome.chosen) {
        const error = outcome.dnsDown
          ? new TetherError('DNS_UNAVAILABLE', `The DNS server ${resolver.server ?? '(system)'} did not answer any question for ${domain}.`, { detail: { domain } })
          : new TetherError('DNS_NO_REGISTRAR', `No Registrar found for ${domain}: all ${outcome.candidates.length} candidates were skipped (${outcome.candidates.map((c) => `${c.step}. ${c.reason}`).join('; ').slice(0, 600)}).`, {
              detail: { domain, candidates: outcome.candidates.length },
            });
        throw error;
      }
      const chosen = outcome.chosen;
      const fromDhcp = dhcp?.option43?.decoded?.certProvUrl;
      const webServices: RegistrarFound['webServices'] =
        options.webServicesUrl !== undefined
          ? { url: options.webServicesUrl, source: 'explicit' }
          : fromDhcp
            ? { url: fromDhcp, source: 'dhcp-option-43' }
            : { url: `${withPort(chosen.host, options.httpsPort, 'https')}${CERTPROV_PATH}`, source: 'derived-from-registrar' };
      const dhcpSeen = dhcp === null ? null : { server: dhcp.server, certProvUrl: dhcp.option43?.decoded?.certProvUrl ?? null, sipServers: dhcp.option120?.names ?? null };
      const value: RegistrarFound = { candidates: outcome.candidates, registrar: chosen, webServices, dhcp: dhcpSeen, dhcpProblem };
      const summary =
        `Registrar ${chosen.host}:${chosen.port} (${chosen.transport.toUpperCase()}, step ${chosen.step}: ${chosen.label}; ${skipped} of ${outcome.candidates.length} candidates skipped); ` +
        `Web Services ${webServices.url} (${webServices.source.replace(/-/g, ' ')})`;
      return { value, summary };
    });


    // Stage 6: the chain over anonymous HTTP, checked against the pool's TLS certificate, then trusted (or not).
    const web = new URL(discovery.webServices.url);
    const webHost = web.hostname.replace(/^\[|\]$/g, '');
    const chain = await step('ca-chain', 'chain', async (progress) => {
      progress(`downloading the CA chain from ${webHost}`);
      let got: PoolChain;
      try {
        got = await obtainPoolChain({
          pool: { host: webHost, ...(options.httpPort === undefined ? {} : { port: options.httpPort }) },
          http: anonymous,
          tlsServer: { host: webHost, port: Number(web.port || 443) },
          lookup: resolver.lookup,
          now,
          tlsTimeoutMs: connectTimeoutMs,
          pinnedFingerprints: [...pinnedFingerprints, ...fileRoots],
          ...(options.trust?.osRoots ? { osRoots: options.trust.osRoots } : {}),
        });
      } catch (err) {
        if (err instanceof TetherError && err.code === 'CHAIN_ROOT_UNTRUSTED') {
          // Keep the fingerprint (and the subject) so a person can compare and decide.
          throw new TetherError('CHAIN_ROOT_UNTRUSTED', `${err.message} Compare it with your administrator's and pass --root-fingerprint, or --trust-root FILE.`, {
            detail: err.detail,
            cause: err,
          });
        }
        throw err;
      }
      const trust: ChainFound['trust'] = fileRoots.has(got.rootFingerprint)
        ? 'trust-root-file'
        : pinnedFingerprints.includes(got.rootFingerprint)
          ? 'pinned-fingerprint'
          : got.trust === 'os-store'
            ? 'os-store'
            : 'pinned-fingerprint';
      const value: ChainFound = {
        rootSubject: got.root.subject,
        rootFingerprint: got.rootFingerprint,
        trust,
        intermediates: got.intermediates.map((c) => c.subject),
        inferredFromTls: got.inferredFromTls,
        sourceUrl: got.sourceUrl,
        pems: chainPems(got),
      };
      const trustWords = { 'os-store': 'in the OS store', 'pinned-fingerprint': 'matches the given fingerprint', 'trust-root-file': 'in the given trusted-root file' }[trust];
      return {
        value,
        summary: `root '${got.root.subject}' (${trustWords}) + ${plural(got.intermediates.length, 'intermediate')}; ${webHost}:${web.port || 443} verifies against it`,
      };
    });


    // Stages 7–8 trust the Web Services' HTTPS through the stage-6 chain, as the phone does.
    pool = makeHttp(chain.pems);
    const poolHttp = pool;

    const auth = await step('auth', 'auth', async (progress) => {
      progress('reading the CertProv and WebTicket metadata');
      const endpoints = await discoverCertProvAuth(poolHttp, discovery.webServices.url);
      const port = options.auth.kind === 'pin' ? endpoints.ports.pin : (endpoints.ports.ntlm ?? endpoints.ports.negotiate);
      if (!port) {
        throw new TetherError(options.auth.kind === 'pin' ? 'WEBTICKET_METHOD_DISABLED' : 'NTLM_NOT_OFFERED', undefined, {
          detail: { webTicketUrl: endpoints.webTicketUrl, method: options.auth.kind },
        });
      }
      progress(`requesting a web ticket (${options.auth.kind === 'pin' ? 'PIN' : 'NTLM'})`);
      ticket = await requestWebTicket({
        http: poolHttp,
        url: port,
        appliesTo: endpoints.certProvUrl,
        auth: options.auth,
        ...(options.sipUri === undefined ? {} : { sipUri: options.sipUri }),
        now: () => now().getTime(),
      });
      const sipUri = ticket.sipUri ?? options.sipUri;
      if (sipUri === undefined) throw new TetherError('WEBTICKET_BAD_RESPONSE', 'The web ticket does not name the user; give the SIP URI.');
      const value: AuthDone = { sipUri, method: options.auth.kind, webTicketUrl: endpoints.webTicketUrl, certProvUrl: endpoints.certProvUrl, ticketExpires: ticket.ticket.expires };
      return { value, summary: `web ticket for ${sipUri} (${options.auth.kind === 'pin' ? 'PIN' : 'NTLM'}), valid until ${ticket.ticket.expires}` };
    });


    const certificate = await step('certificate', 'certificate', async (progress) => {
      progress('making a throw-away RSA-2048 key and request in memory');
      key = makeThrowawayKey();
      const csrPem = key.csrFor(auth.sipUri);
      progress('GetAndPublishCert');
      const issued = await getAndPublishCert({
        http: poolHttp,
        url: auth.certProvUrl,
        ticket: ticket!,
        csrPem,
        deviceId: options.deviceId ?? randomUUID(),
        entity: auth.sipUri,
        now: () => now().getTime(),
      });
      const check = checkIssuedCertificate(issued.certificatePem, key.publicKeyPem, chain.pems, now());
      const value: CertificateDone = { ...check, certificatePem: issued.certificatePem, chainPems: issued.chainPems };
      return { value, summary: `issued and published '${check.subject}' (serial ${check.serial}, until ${check.notAfter}); it carries the request's key and chains to the stage-6 root` };
    });
    ticket?.dispose();
    ticket = undefined;

    let logon: PoolBootstrapResult['logon'] = null;
    if (options.register) {
      logon = await step('logon', 'logon', async (progress) => {
        const tls = discovery.registrar.transport === 'tls' ? discovery.registrar : discovery.candidates.find((c) => c.transport === 'tls' && c.status !== 'skipped');
        if (!tls || tls.host === null || tls.port === null) {
          throw new TetherError('REGISTRAR_UNREACHABLE', 'No TLS Registrar was found in stage 5; a phone signs in over TLS only.', { detail: { registrar: discovery.registrar.host } });
        }
        progress(`REGISTER to ${tls.host}:${tls.port} with the issued certificate`);
        const result = await registerWithRegistrar({
          registrar: { host: tls.host, port: tls.port },
          sipUri: auth.sipUri,
          caPems: chain.pems,
          clientCertificate: { certPem: certificate.certificatePem, keyPem: key!.privateKeyPem() },
          lookup: resolver.lookup,
          ...(options.registerTimeoutMs === undefined ? {} : { timeoutMs: options.registerTimeoutMs }),
        });
        const { elapsedMs: _elapsed, ...value } = result;
        return { value, summary: `registered ${result.sipUri} at ${result.registrar} (${result.tlsProtocol ?? 'TLS'}, expires ${result.expires ?? '?'} s)` };
      });
    }
    return { deviceUpdate, update, discovery, chain, auth, certificate, logon };
  } finally {
    ticket?.dispose();
    key?.dispose();
    anonymous.close();
    pool?.close();
  }
}
