import { encodeOption120, encodeUcClientOption43, encodeVlanOption43, UC_VENDOR_CLASS } from '../../common/pool/dhcp-options';
import type { LabDhcpOptions } from '../context';

/** The CertProv path of every Lync pool [S1][S24]. */
export const LAB_CERTPROV_PATH = '/CertProv/CertProvisioningService.svc';

/** The voice VLAN the lab hands to CPE-OCPHONE informs unless told otherwise. */
export const DEFAULT_LAB_VLAN = 20;

/**
 * The stale Web Services FQDN of the 'option43-wrong' fault: a pool that was retired, a name the
 * lab's DNS does not know, so the phone's "Unable to locate Lync Certificate Web service" [S10]
 * reproduces. Never the pool itself (were the pool called webpool-old, another name is used).
 */
export function staleWebServerFqdn(domain: string, poolFqdn: string): string {
  const first = `webpool-old.${domain}`;
  return first === poolFqdn.toLowerCase() ? `webpool-retired.${domain}` : first;
}

export interface LabDhcpInput {
  readonly domain: string;
  readonly poolFqdn: string;
  /** The lab's HTTPS base URL (Web Services live there), e.g. https://pool01.contoso.test:18443 */
  readonly httpsBase: string;
  readonly vlanId: number | null;
  /** Whether 'option43-wrong' is on. */
  readonly wrong: boolean;
}

/**
 * The options the lab hands out, as a Lync admin would set them with DHCPUtil for this pool
 * [S2][S3]: option 43 names the Web Services (CertProv) URL on the lab's HTTPS listener, and
 * option 120 the pool FQDN (the lab is a single Front End pool, so the first-logon pool [S1]).
 */
export function labDhcpOptions(input: LabDhcpInput): LabDhcpOptions {
  const https = new URL(input.httpsBase);
  const webServerFqdn = input.wrong ? staleWebServerFqdn(input.domain, input.poolFqdn) : https.hostname;
  const webServerPort = https.port === '' ? 443 : Number(https.port);
  const option43 = encodeUcClientOption43({
    ucIdentifier: UC_VENDOR_CLASS,
    urlScheme: 'https',
    webServerFqdn,
    webServerPort,
    certProvRelPath: LAB_CERTPROV_PATH,
  });
  return {
    option43,
    option120: encodeOption120([input.poolFqdn]),
    vlanOption43: input.vlanId === null ? null : encodeVlanOption43(input.vlanId),
    certProvUrl: `https://${webServerFqdn}:${webServerPort}${LAB_CERTPROV_PATH}`,
    webServerFqdn,
    sipServer: input.poolFqdn,
    vlanId: input.vlanId,
  };
}
