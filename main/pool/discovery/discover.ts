import { isIP } from 'node:net';
import { TetherError } from '../../../common/errors';
import type { SerializedTetherError } from '../../../common/errors';
import { fqdnProblem } from '../../../common/pool/dhcp-options';
import type { PoolResolver } from '../net/resolver';
import type { DhcpPoolAnswer } from './dhcp-answer';
import { dnsReason, findRegistrar, type RegistrarCandidate, type RegistrarChoice, type ReachabilityProbe } from './registrar';
import type { RandomSource } from './srv-order';

/** The CertProv path every Lync pool serves [S24]. */
export const CERTPROV_PATH = '/CertProv/CertProvisioningService.svc';
export const DEVICE_UPDATE_PREFIX = 'ucupdates-r2';

export interface DeviceUpdateLocation {
  /** `ucupdates-r2.<SIP domain>` [S16][S19]. */
  readonly fqdn: string;
  readonly addresses: string[];
  readonly found: boolean;
  /** The Device Update request handler, e.g. https://ucupdates-r2.contoso.com/RequestHandler/ucdevice.upx [S24]. */
  readonly url: string;
  readonly error: SerializedTetherError | null;
}

export interface WebServicesLocation {
  readonly url: string;
  readonly source: 'dhcp-option-43' | 'derived-from-registrar';
}

/**
 * Does the Web Services host resolve through the configured DNS server? The phone needs it right
 * after discovery to download the root CA chain (stage 6); a stale option 43 shows there as
 * "Unable to locate Lync Certificate Web service" [S10]. A finding, not a discovery failure.
 */
export interface WebServicesCheck {
  readonly host: string;
  /** IPv4 addresses the resolver gave (the address itself when the URL holds an IPv4 literal). */
  readonly addresses: string[];
  readonly resolves: boolean;
  /** WEB_SERVICES_UNRESOLVED (or DNS_UNAVAILABLE) when it does not resolve, else null. */
  readonly warning: DiscoveryWarning | null;
}

/** A typed error reported as a warning, with its catalogue fix so JSON readers need no lookup. */
export interface DiscoveryWarning extends SerializedTetherError {
  readonly fix: string;
  readonly cmdlet: string | null;
}

function asWarning(e: TetherError): DiscoveryWarning {
  return { ...e.toJSON(), fix: e.fix, cmdlet: e.cmdlet ?? null };
}

export interface DiscoveryResult {
  readonly domain: string;
  readonly dnsServer: string | null;
  readonly dhcp: DhcpPoolAnswer | null;
  /** The DHCPINFORM's typed error when it was asked and failed, else null. */
  readonly dhcpError: SerializedTetherError | null;
  readonly candidates: RegistrarCandidate[];
  readonly registrar: RegistrarChoice | null;
  /** Why no Registrar was chosen (DNS_NO_REGISTRAR or DNS_UNAVAILABLE), else null. */
  readonly registrarError: SerializedTetherError | null;
  readonly webServices: WebServicesLocation | null;
  /** Whether the Web Services host resolves; null when there is no Web Services URL. */
  readonly webServicesCheck: WebServicesCheck | null;
  readonly deviceUpdate: DeviceUpdateLocation;
}

export interface DiscoveryOptions {
  readonly domain: string;
  readonly resolver: PoolResolver;
  readonly dhcp?: DhcpPoolAnswer | null;
  readonly dhcpError?: SerializedTetherError | null;
  readonly random?: RandomSource;
  readonly probe?: ReachabilityProbe;
}

/** Stage 3: the Device Update Web service's A record [S19]. */
export async function findDeviceUpdate(domain: string, resolver: PoolResolver): Promise<DeviceUpdateLocation> {
  const fqdn = `${DEVICE_UPDATE_PREFIX}.${domain}`;
  const url = `https://${fqdn}/RequestHandler/ucdevice.upx`;
  try {
    const addresses = await resolver.resolve4(fqdn);
    return { fqdn, addresses, found: true, url, error: null };
  } catch (err) {
    const why = dnsReason(err);
    const code = why.serverDown ? 'DNS_UNAVAILABLE' : 'DNS_NO_DEVICE_UPDATE';
    const error = new TetherError(code, `${fqdn}: ${why.reason}.`, { stage: 'find-update', detail: { fqdn } });
    return { fqdn, addresses: [], found: false, url, error: error.toJSON() };
  }
}

/** Resolves the Web Services URL's host as the phone will before the chain download (stage 6). */
export async function checkWebServices(web: WebServicesLocation, resolver: PoolResolver): Promise<WebServicesCheck> {
  const host = new URL(web.url).hostname;
  if (isIP(host) === 4) return { host, addresses: [host], resolves: true, warning: null };
  try {
    const addresses = await resolver.resolve4(host);
    return { host, addresses, resolves: true, warning: null };
  } catch (err) {
    const why = dnsReason(err);
    const from = web.source === 'dhcp-option-43' ? 'DHCP option 43, sub-option 3 WebServerFqdn' : 'the Registrar FQDN';
    const warning = why.serverDown
      ? new TetherError('DNS_UNAVAILABLE', `Could not check the Web Services host ${host}: ${why.reason}.`, { stage: 'ca-chain', detail: { host, server: resolver.server } })
      : new TetherError(
          'WEB_SERVICES_UNRESOLVED',
          `The Web Services host ${host} (from ${from}) does not resolve: ${why.reason}. A phone will stop at "Unable to locate Lync Certificate Web service" when it downloads the root certificate chain.`,
          { detail: { host, source: web.source, server: resolver.server } },
        );
    return { host, addresses: [], resolves: false, warning: asWarning(warning) };
  }
}

/** Stages 3 and 5 together: what the phone would find on this network for this SIP domain. */
export async function discoverPool(options: DiscoveryOptions): Promise<DiscoveryResult> {
  const domain = options.domain.replace(/\.$/, '').toLowerCase();
  const problem = fqdnProblem(domain);
  if (problem) throw new TetherError('BAD_INPUT', `'${options.domain}' is not a SIP domain: ${problem}.`);
  const dhcp = options.dhcp ?? null;
  const [outcome, deviceUpdate] = await Promise.all([
    findRegistrar({ domain, resolver: options.resolver, dhcp, dhcpProblem: options.dhcpError?.message ?? null, random: options.random, probe: options.probe }),
    findDeviceUpdate(domain, options.resolver),
  ]);
  let registrarError: SerializedTetherError | null = null;
  if (!outcome.chosen) {
    registrarError = (
      outcome.dnsDown
        ? new TetherError('DNS_UNAVAILABLE', `The DNS server ${options.resolver.server ?? '(system)'} did not answer any question for ${domain}.`, {
            stage: 'registrar',
            detail: { domain, server: options.resolver.server },
          })
        : new TetherError('DNS_NO_REGISTRAR', `No Registrar found for ${domain}: every candidate was skipped.`, { detail: { domain } })
    ).toJSON();
  }
  const fromDhcp = dhcp?.option43?.decoded?.certProvUrl;
  const webServices: WebServicesLocation | null = fromDhcp
    ? { url: fromDhcp, source: 'dhcp-option-43' }
    : outcome.chosen
      ? { url: `https://${outcome.chosen.host}${CERTPROV_PATH}`, source: 'derived-from-registrar' }
      : null;
  const webServicesCheck = webServices ? await checkWebServices(webServices, options.resolver) : null;
  return {
    domain,
    dnsServer: options.resolver.server,
    dhcp,
    dhcpError: options.dhcpError ?? null,
    candidates: outcome.candidates,
    registrar: outcome.chosen,
    registrarError,
    webServices,
    webServicesCheck,
    deviceUpdate,
  };
}
