import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { TetherError, toTetherError } from '../../common/errors';
import type { DeviceIdentity, DeviceUpdateAnswer, OfferedModule } from '../../common/pool/device-update-wire';
import type { PhoneModel } from '../../native/usb/catalogue';
import { requestWebTicket, type IssuedWebTicket, type WebTicketAuth } from '../pool/auth/webticket';
import { discoverCertProvAuth } from '../pool/auth/webticket-discovery';
import { getAndPublishCert, type IssuedCertificate } from '../pool/certprov';
import { chainPems, obtainPoolChain, type PoolChain } from '../pool/chain';
import type { DhcpPoolAnswer } from '../pool/discovery/dhcp-answer';
import { CERTPROV_PATH, DEVICE_UPDATE_PREFIX } from '../pool/discovery/discover';
import { dnsReason, findRegistrar, type RegistrarCandidate, type RegistrarChoice, type RegistrarStep } from '../pool/discovery/registrar';
import type { RandomSource } from '../pool/discovery/srv-order';
import type { PoolHttpClient } from '../pool/net/http';
import type { PoolResolver } from '../pool/net/resolver';
import { tcpReachable } from '../pool/net/tcp-reach';
import { checkForUpdate, DEVICE_UPDATE_PATH, deviceUpdateIdentity, type CachedFile } from '../pool/update';
import type { StageOutcome, StageProgress } from './stage-events';

/**
 * The pool side of bootstrap stages 3, 5, 6, 7 and 8, shared by the phone-less check
 * (pool-bootstrap.ts, `tether test-bootstrap`) and the stage table run with a real phone (stages/):
 * each function is one stage's work and returns its value and one line for people.
 */

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
  readonly downloaded: readonly DownloadedImage[];
}

/** What stage 4 verified of a downloaded file; no path, since a test run's files are removed. */
export type VerifiedFile = Omit<CachedFile, 'path'>;

export interface DownloadedImage extends VerifiedFile {
  readonly version: string;
  readonly signature: VerifiedFile;
}

export interface RegistrarFound {
  readonly candidates: RegistrarCandidate[];
  readonly registrar: RegistrarChoice;
  readonly webServices: { readonly url: string; readonly source: 'dhcp-option-43' | 'explicit' | 'derived-from-registrar' | 'internal-sign-in' };
  /** What DHCP said (options 43 and 120), or null with the reason in `dhcpProblem`. */
  readonly dhcp: { readonly server: string; readonly certProvUrl: string | null; readonly sipServers: string[] | null } | null;
  readonly dhcpProblem: string | null;
}

export interface ChainFound {
  readonly rootSubject: string;
  readonly rootFingerprint: string;
  /** 'internal-sign-in': outside, the chain saved at the internal sign-in, checked against the edge (docs/pool/external.md). */
  readonly trust: 'os-store' | 'pinned-fingerprint' | 'trust-root-file' | 'internal-sign-in';
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

export function withPort(host: string, port: number | undefined, scheme: 'http' | 'https'): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  const standard = scheme === 'http' ? 80 : 443;
  return `${scheme}://${h}${port === undefined || port === standard ? '' : `:${port}`}`;
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// ------------------------------------------------------------------------------------ stage 3

export interface FindDeviceUpdateInput {
  readonly domain: string;
  readonly resolver: PoolResolver;
  /** Device Update URL from in-band provisioning or configuration (path already completed). */
  readonly explicitUrl: URL | null;
  readonly httpPort?: number;
  readonly connectTimeoutMs: number;
}

/** Stage 3: ucupdates-r2.<domain> (A record) [S16][S19], or the given URL; checks that it accepts connections. */
export async function findDeviceUpdateStage(input: FindDeviceUpdateInput, progress: StageProgress): Promise<StageOutcome<DeviceUpdateFound>> {
  const { resolver } = input;
  let url: URL;
  let source: DeviceUpdateFound['source'];
  if (input.explicitUrl !== null) {
    url = input.explicitUrl;
    source = 'explicit';
  } else {
    // Internally the phone asks over plain HTTP (port 80) before it has the pool's chain [S21].
    url = new URL(`${withPort(`${DEVICE_UPDATE_PREFIX}.${input.domain}`, input.httpPort, 'http')}${DEVICE_UPDATE_PATH}`);
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
    await tcpReachable(resolver, fqdn, port, input.connectTimeoutMs);
  } catch (err) {
    throw new TetherError('UPDATE_SERVICE_UNREACHABLE', `${fqdn}:${port} did not accept a connection: ${err instanceof Error ? err.message : String(err)}`, {
      detail: { url: `${url.origin}${url.pathname}` },
      cause: err,
    });
  }
  const value: DeviceUpdateFound = { url: url.toString(), source, fqdn, addresses };
  return { value, summary: `${fqdn} → ${addresses.join(', ')} (${source === 'dns' ? 'DNS A record' : 'given URL'}); ${url.origin}${url.pathname} accepts connections` };
}

// ------------------------------------------------------------------------------------ stage 4

export interface AskDeviceUpdateInput {
  readonly url: string;
  /** The catalogue model: vendor, model id, hardware revision and locale of the request. */
  readonly model: PhoneModel;
  /** What the phone (or its stand-in) reports: serial, MAC and the version it runs. */
  readonly phone: { readonly serial: string; readonly mac: string; readonly runningVersion: string };
  /** Anonymous HTTP client (stages 3–6). */
  readonly http: PoolHttpClient;
}

/** Stage 4's question: what Device Update offers this model and phone [S21]. */
export async function askDeviceUpdate(input: AskDeviceUpdateInput, progress: StageProgress): Promise<{ identity: DeviceIdentity; answer: DeviceUpdateAnswer }> {
  const { model, phone } = input;
  const identity = deviceUpdateIdentity(model, phone);
  progress(`asking for ${model.vendor} ${model.id} rev ${model.hardwareRevision} ${model.locale}, running ${phone.runningVersion}`);
  const answer = await checkForUpdate(input.url, identity, { http: input.http });
  return { identity, answer };
}

/** Where the offered files are: the internal BaseURL first, as a phone inside the firewall does. */
export function offeredBaseUrl(answer: DeviceUpdateAnswer): string {
  const base = answer.baseUrl ?? answer.externalBaseUrl;
  if (base === null) throw new TetherError('UPDATE_RESPONSE_MALFORMED', 'The answer offers modules but no BaseURL.');
  return base;
}

// ------------------------------------------------------------------------------------ stage 5

export interface FindRegistrarInput {
  readonly domain: string;
  readonly resolver: PoolResolver;
  /** A DHCP answer (options 43/120) already at hand, or null. */
  readonly dhcp: DhcpPoolAnswer | null;
  /** Why there is no DHCP answer (shown on the DHCP steps), or null. */
  readonly dhcpProblem: string | null;
  /** Asks DHCP now when `dhcp` is null; a failure is shown on the DHCP steps and DNS carries on. */
  readonly askDhcp?: () => Promise<DhcpPoolAnswer>;
  readonly webServicesUrl?: string;
  /** Where `webServicesUrl` came from (default 'explicit'); outside, the internal sign-in's facts. */
  readonly webServicesSource?: 'explicit' | 'internal-sign-in';
  readonly httpsPort?: number;
  readonly random?: RandomSource;
  /** The Registrar steps to walk (default the vendor's nine); outside, EXTERNAL_REGISTRAR_STEPS. */
  readonly steps?: readonly RegistrarStep[];
}

/** Stage 5: the Registrar in the vendor's six-step order (then the A-record fallbacks), and the Web Services URL. */
export async function findRegistrarStage(input: FindRegistrarInput, progress: StageProgress): Promise<StageOutcome<RegistrarFound>> {
  const { domain, resolver } = input;
  let dhcp = input.dhcp;
  let dhcpProblem = input.dhcpProblem;
  if (dhcp === null && input.askDhcp) {
    progress('asking DHCP (DHCPINFORM) for options 43 and 120');
    try {
      dhcp = await input.askDhcp();
    } catch (err) {
      // As on a phone, DNS still gives the Registrar when DHCP is silent [S13].
      dhcpProblem = toTetherError(err).message;
    }
  }
  progress('asking DNS for the SIP SRV records');
  const outcome = await findRegistrar({ domain, resolver, dhcp, dhcpProblem, ...(input.random ? { random: input.random } : {}), ...(input.steps ? { steps: input.steps } : {}) });
  const skipped = outcome.candidates.filter((c) => c.status === 'skipped').length;
  if (!outcome.chosen) {
    throw outcome.dnsDown
      ? new TetherError('DNS_UNAVAILABLE', `The DNS server ${resolver.server ?? '(system)'} did not answer any question for ${domain}.`, { detail: { domain } })
      : new TetherError('DNS_NO_REGISTRAR', `No Registrar found for ${domain}: all ${outcome.candidates.length} candidates were skipped (${outcome.candidates.map((c) => `${c.step}. ${c.reason}`).join('; ').slice(0, 600)}).`, {
          detail: { domain, candidates: outcome.candidates.length },
        });
  }
  const chosen = outcome.chosen;
  const fromDhcp = dhcp?.option43?.decoded?.certProvUrl;
  const webServices: RegistrarFound['webServices'] =
    input.webServicesUrl !== undefined
      ? { url: input.webServicesUrl, source: input.webServicesSource ?? 'explicit' }
      : fromDhcp
        ? { url: fromDhcp, source: 'dhcp-option-43' }
        : { url: `${withPort(chosen.host, input.httpsPort, 'https')}${CERTPROV_PATH}`, source: 'derived-from-registrar' };
  const dhcpSeen = dhcp === null ? null : { server: dhcp.server, certProvUrl: dhcp.option43?.decoded?.certProvUrl ?? null, sipServers: dhcp.option120?.names ?? null };
  const value: RegistrarFound = { candidates: outcome.candidates, registrar: chosen, webServices, dhcp: dhcpSeen, dhcpProblem };
  const summary =
    `Registrar ${chosen.host}:${chosen.port} (${chosen.transport.toUpperCase()}, step ${chosen.step}: ${chosen.label}; ${skipped} of ${outcome.candidates.length} candidates skipped); ` +
    `Web Services ${webServices.url} (${webServices.source.replace(/-/g, ' ')})`;
  return { value, summary };
}

/**
 * The Registrar a phone signs in to: stage 5's choice when it is TLS, else the first TLS candidate
 * that was not skipped; null when there is none (a phone signs in over TLS only).
 */
export function tlsRegistrarOf(found: RegistrarFound): { readonly host: string; readonly port: number } | null {
  const tls = found.registrar.transport === 'tls' ? found.registrar : found.candidates.find((c) => c.transport === 'tls' && c.status !== 'skipped' && c.host !== null);
  return tls && tls.host !== null && tls.port !== null ? { host: tls.host, port: tls.port } : null;
}

// ------------------------------------------------------------------------------------ stage 6

export interface ObtainChainInput {
  readonly webServicesUrl: string;
  /** Anonymous HTTP client (stages 3–6). */
  readonly http: PoolHttpClient;
  readonly resolver: PoolResolver;
  readonly httpPort?: number;
  readonly now: () => Date;
  readonly connectTimeoutMs: number;
  /** Root fingerprints given as a parameter (normalised). */
  readonly pinnedFingerprints: readonly string[];
  /** Roots from a trusted-root file (fingerprints). */
  readonly fileRoots?: ReadonlySet<string>;
  readonly osRoots?: readonly string[];
  /** False: skip the check of the pool's HTTPS certificate against the chain (`probe chain --no-tls-check`). */
  readonly checkTls?: boolean;
  /** What an untrusted root's message tells the person to pass (the flags differ between commands). */
  readonly howToTrust?: string;
}

/** Stage 6: the chain over anonymous HTTP, checked against the pool's TLS certificate, then trusted (or not). */
export async function obtainChainStage(input: ObtainChainInput, progress: StageProgress): Promise<StageOutcome<ChainFound>> {
  const web = new URL(input.webServicesUrl);
  const webHost = web.hostname.replace(/^\[|\]$/g, '');
  const fileRoots = input.fileRoots ?? new Set<string>();
  progress(`downloading the CA chain from ${webHost}`);
  let got: PoolChain;
  try {
    got = await obtainPoolChain({
      pool: { host: webHost, ...(input.httpPort === undefined ? {} : { port: input.httpPort }) },
      http: input.http,
      ...(input.checkTls === false ? {} : { tlsServer: { host: webHost, port: Number(web.port || 443) } }),
      lookup: input.resolver.lookup,
      now: input.now,
      tlsTimeoutMs: input.connectTimeoutMs,
      pinnedFingerprints: [...input.pinnedFingerprints, ...fileRoots],
      ...(input.osRoots ? { osRoots: input.osRoots } : {}),
    });
  } catch (err) {
    if (err instanceof TetherError && err.code === 'CHAIN_ROOT_UNTRUSTED') {
      // Keep the fingerprint (and the subject) so a person can compare and decide.
      throw new TetherError('CHAIN_ROOT_UNTRUSTED', `${err.message} Compare it with your administrator's and ${input.howToTrust ?? 'pass --root-fingerprint, or --trust-root FILE'}.`, {
        detail: err.detail,
        cause: err,
      });
    }
    throw err;
  }
  const trust: ChainFound['trust'] = fileRoots.has(got.rootFingerprint)
    ? 'trust-root-file'
    : input.pinnedFingerprints.includes(got.rootFingerprint)
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
    summary: `root '${got.root.subject}' (${trustWords}) + ${plural(got.intermediates.length, 'intermediate')}; ${input.checkTls === false ? 'the HTTPS certificate was not checked' : `${webHost}:${web.port || 443} verifies against it`}`,
  };
}

// ------------------------------------------------------------------------------------ stage 7

export interface WebTicketInput {
  /** HTTP client trusting the stage-6 chain. */
  readonly http: PoolHttpClient;
  readonly webServicesUrl: string;
  readonly auth: WebTicketAuth;
  readonly sipUri?: string;
  readonly now: () => Date;
  /** Receives the ticket as soon as it exists, so the caller can dispose of it whatever happens next. */
  readonly keep: (ticket: IssuedWebTicket) => void;
}

/** Stage 7: the CertProv/WebTicket metadata, then a web ticket with the PIN or Windows credentials. */
export async function webTicketStage(input: WebTicketInput, progress: StageProgress): Promise<StageOutcome<AuthDone> & { readonly ticket: IssuedWebTicket }> {
  progress('reading the CertProv and WebTicket metadata');
  const endpoints = await discoverCertProvAuth(input.http, input.webServicesUrl);
  const port = input.auth.kind === 'pin' ? endpoints.ports.pin : (endpoints.ports.ntlm ?? endpoints.ports.negotiate);
  if (!port) {
    throw new TetherError(input.auth.kind === 'pin' ? 'WEBTICKET_METHOD_DISABLED' : 'NTLM_NOT_OFFERED', undefined, {
      detail: { webTicketUrl: endpoints.webTicketUrl, method: input.auth.kind },
    });
  }
  progress(`requesting a web ticket (${input.auth.kind === 'pin' ? 'PIN' : 'NTLM'})`);
  const ticket = await requestWebTicket({
    http: input.http,
    url: port,
    appliesTo: endpoints.certProvUrl,
    auth: input.auth,
    ...(input.sipUri === undefined ? {} : { sipUri: input.sipUri }),
    now: () => input.now().getTime(),
  });
  input.keep(ticket);
  const sipUri = ticket.sipUri ?? input.sipUri;
  if (sipUri === undefined) throw new TetherError('WEBTICKET_BAD_RESPONSE', 'The web ticket does not name the user; give the SIP URI.');
  const value: AuthDone = { sipUri, method: input.auth.kind, webTicketUrl: endpoints.webTicketUrl, certProvUrl: endpoints.certProvUrl, ticketExpires: ticket.ticket.expires };
  return { value, ticket, summary: `web ticket for ${sipUri} (${input.auth.kind === 'pin' ? 'PIN' : 'NTLM'}), valid until ${ticket.ticket.expires}` };
}

// ------------------------------------------------------------------------------------ stage 8

export interface IssueInput {
  readonly http: PoolHttpClient;
  readonly auth: AuthDone;
  readonly ticket: IssuedWebTicket;
  readonly csrPem: string;
  readonly deviceId?: string;
  readonly now: () => Date;
}

/** Stage 8's pool call: GetAndPublishCert for a request (the certificate carries the request's key). */
export function issueCertificate(input: IssueInput, progress: StageProgress): Promise<IssuedCertificate> {
  progress('GetAndPublishCert');
  return getAndPublishCert({
    http: input.http,
    url: input.auth.certProvUrl,
    ticket: input.ticket,
    csrPem: input.csrPem,
    deviceId: input.deviceId ?? randomUUID(),
    entity: input.auth.sipUri,
    now: () => input.now().getTime(),
  });
}
