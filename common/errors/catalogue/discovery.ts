import type { ErrorTable } from '../entry';
import { ASK_IT } from './user-actions';

/** Typed errors of the discovery area (DHCP options, DHCPINFORM, DNS): code → stage, summary and fix. */
export const discoveryErrors = {
  DHCP_VLAN_MALFORMED: {
    stage: 'vlan',
    summary: 'The DHCP server sent a VLAN answer (option 43, vendor class CPE-OCPHONE) that cannot be read.',
    fix: 'Ask the DHCP admin to set vendor sub-option 10 of class CPE-OCPHONE to the voice VLAN ID (1–4094), or configure the VLAN through LLDP-MED on the switch.',
    userAction: ASK_IT,
  },
  DHCP_VLAN_OUT_OF_RANGE: {
    stage: 'vlan',
    summary: 'The DHCP server offered a VLAN ID outside 1–4094.',
    fix: 'Ask the DHCP admin to correct vendor sub-option 10 (CPE-OCPHONE) to the voice VLAN ID, a number from 1 to 4094.',
    userAction: ASK_IT,
  },
  DHCP_OPTION43_MALFORMED: {
    stage: 'registrar',
    summary: 'DHCP option 43 for MS-UC-Client (the Web Services address) is malformed.',
    fix: 'Ask the DHCP admin to re-create option 43 for vendor class MS-UC-Client (DHCPUtil or DHCPConfigScript.bat), then reset the phone.',
    userAction: ASK_IT,
    cmdlet: 'Test-CsPhoneBootstrap -PhoneOrExt <number> -PIN <pin> -Verbose',
  },
  DHCP_OPTION43_INCOMPLETE: {
    stage: 'registrar',
    summary: 'DHCP option 43 for MS-UC-Client lacks part of the Web Services (CertProv) address.',
    fix: 'Ask the DHCP admin to set all of sub-options 1–5 (UCIdentifier, URLScheme, WebServerFqdn, WebServerPort, CertProvRelPath) of option 43 for MS-UC-Client, then reset the phone.',
    userAction: ASK_IT,
    cmdlet: 'Test-CsPhoneBootstrap -PhoneOrExt <number> -PIN <pin> -Verbose',
  },
  DHCP_OPTION120_MALFORMED: {
    stage: 'registrar',
    summary: 'DHCP option 120 (SIP server) is malformed.',
    fix: 'Ask the DHCP admin to set option 120 to the pool FQDN with encoding 0 (DHCPUtil does this), then reset the phone.',
    userAction: ASK_IT,
    cmdlet: 'Test-CsPhoneBootstrap -PhoneOrExt <number> -PIN <pin> -Verbose',
  },
  DHCP_OPTION120_ADDRESS: {
    stage: 'registrar',
    summary: 'DHCP option 120 gives the SIP server as an IP address; Lync supports only an FQDN there.',
    fix: 'Ask the DHCP admin to set option 120 to the pool FQDN (encoding 0), not an IP address.',
    userAction: ASK_IT,
    cmdlet: 'Test-CsPhoneBootstrap -PhoneOrExt <number> -PIN <pin> -Verbose',
  },
  DHCP_PACKET_MALFORMED: {
    stage: 'ip',
    summary: 'A DHCP answer could not be read (truncated or malformed packet).',
    fix: 'Check the DHCP server or relay on this network; capture the exchange if it happens again.',
    userAction: 'Try again. If it happens again, tell your IT support.',
  },
  DHCP_NO_ANSWER: {
    stage: 'ip',
    summary: 'No DHCP server answered the DHCPINFORM for MS-UC-Client.',
    fix: 'Check that a DHCP server (or the Lync Registrar\'s DHCP responder) serves this subnet and answers vendor class MS-UC-Client; phones then fall back to DNS.',
    userAction: "Check the phone's network cable; if it is plugged in, tell your IT support.",
    cmdlet: 'DHCPUtil.exe -EmulateClient',
  },
  DHCP_INTERFACE_UNUSABLE: {
    stage: 'ip',
    summary: 'The chosen network interface cannot send a DHCPINFORM (no link, no IPv4 address, or port 68 is taken).',
    fix: 'Pick an interface that is connected and has an IPv4 address; run the probe with administrator rights and without another DHCP client holding port 68.',
    userAction: 'Check that this computer is connected to the network, then try again.',
  },
  WEB_SERVICES_UNRESOLVED: {
    stage: 'ca-chain',
    summary: 'The Web Services (CertProv) host the phone was given does not resolve in DNS: the phone shows "Unable to locate Lync Certificate Web service" when it downloads the root certificate chain.',
    fix: 'Option 43 is wrong or stale (e.g. an old pool): ask the DHCP admin to re-create option 43 for vendor class MS-UC-Client with the pool\'s Web Services FQDN (DHCPUtil or DHCPConfigScript.bat), or add the missing DNS A record; then reset the phone.',
    userAction: ASK_IT,
    cmdlet: 'DHCPUtil.exe -EmulateClient',
  },
  DNS_UNAVAILABLE: {
    stage: 'registrar',
    summary: 'The DNS server did not answer.',
    fix: 'Check the DNS server address and that it is reachable from this network.',
    userAction: "Check that the phone's network cable is plugged in, then try again. If it fails again, tell your IT support.",
  },
  DNS_NO_REGISTRAR: {
    stage: 'registrar',
    summary: 'No Registrar was found: no DNS SRV record, no DHCP option 120 and no A-record fallback led to a pool.',
    fix: 'Ask the DNS admin to publish _sipinternaltls._tcp.<SIP domain> (port 5061) pointing at the pool FQDN, or set DHCP option 120.',
    userAction: ASK_IT,
    cmdlet: 'Test-CsClientAuth -UserSipAddress <sip> -UserCredential <cred>',
  },
  DNS_NO_DEVICE_UPDATE: {
    stage: 'find-update',
    summary: 'The Device Update Web service was not found: ucupdates-r2.<SIP domain> has no A record.',
    fix: 'Ask the DNS admin to add an internal A record ucupdates-r2.<SIP domain> pointing at the pool that hosts Device Update, and put that name on the pool\'s HTTPS certificate.',
    userAction: ASK_IT,
  },
} as const satisfies ErrorTable;
