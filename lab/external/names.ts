/**
 * The names of the lab's external view (what a phone outside the corporate network finds in public
 * DNS): the Access Edge names `sip.<domain>` and `sipexternal.<domain>` [S16][S17] and the pool's
 * external Web Services FQDN (OUR choice of name: `lyncext.<domain>`; a real deployment picks its
 * own and publishes it as WebTicketExternalUri / DeviceUpdateDownloadExternalUri [S24]). No
 * `_sipinternaltls`, no `sipinternal`, no `ucupdates-r2`, no pool FQDN: those are internal only.
 */

export const EXTERNAL_WEB_SERVICES_PREFIX = 'lyncext';

export function externalWebServicesFqdn(domain: string): string {
  return `${EXTERNAL_WEB_SERVICES_PREFIX}.${domain}`;
}

/** The Access Edge name the external SIP SRV records point at. */
export function externalSipTarget(domain: string): string {
  return `sip.${domain}`;
}

/** Every A record of the external zone (besides the zone's ns1). */
export function externalHostNames(domain: string): string[] {
  return [externalSipTarget(domain), `sipexternal.${domain}`, externalWebServicesFqdn(domain)];
}
