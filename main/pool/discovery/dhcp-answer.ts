import { toTetherError } from '../../../common/errors';
import type { SerializedTetherError } from '../../../common/errors';
import {
  decodeDomainNameOption,
  decodeOption120,
  decodeUcClientOption43,
  decodeVlanOption43,
  UC_VENDOR_CLASS,
  VLAN_VENDOR_CLASS,
  type DecodedUcClientOption43,
} from '../../../common/pool/dhcp-options';
import { OPTION, type DhcpPacket } from '../../../common/pool/dhcp-packet';

/** What a DHCP answer said about the pool, with each option decoded or its typed error kept. */
export interface DhcpPoolAnswer {
  /** Who answered (option 54, else the packet's source address). */
  readonly server: string;
  readonly option43: {
    readonly hex: string;
    readonly decoded: DecodedUcClientOption43 | null;
    readonly error: SerializedTetherError | null;
  } | null;
  readonly option120: {
    readonly hex: string;
    readonly names: string[] | null;
    readonly error: SerializedTetherError | null;
  } | null;
  /** Option 43 read as the VLAN answer, when the request's vendor class was CPE-OCPHONE (stage 1). */
  readonly vlan: {
    readonly hex: string;
    readonly id: number | null;
    readonly error: SerializedTetherError | null;
  } | null;
  /** Option 15, the DNS domain the DHCP server hands out, when it is a valid DNS name. */
  readonly domainName: string | null;
  /** Option 15 as sent, decoded strictly (decodeDomainNameOption) or its typed error kept. */
  readonly option15: {
    readonly hex: string;
    readonly name: string | null;
    readonly error: SerializedTetherError | null;
  } | null;
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

function attempt<T>(fn: () => T): { value: T | null; error: SerializedTetherError | null } {
  try {
    return { value: fn(), error: null };
  } catch (err) {
    return { value: null, error: toTetherError(err).toJSON() };
  }
}

/**
 * Reads options 43/120/15 from a DHCPACK. A bad option does not hide the good ones: a helpdesk
 * user needs to see that option 120 is fine even when option 43 is broken.
 */
export function readPoolAnswer(packet: DhcpPacket, sourceAddress: string, vendorClass: string = UC_VENDOR_CLASS): DhcpPoolAnswer {
  // Option 43's meaning depends on the vendor class the client sent [S1][S4].
  const raw43 = packet.options.get(OPTION.vendorSpecific);
  const isVlan = vendorClass.toUpperCase() === VLAN_VENDOR_CLASS;
  const o43 = isVlan ? undefined : raw43;
  const v43 = isVlan ? raw43 : undefined;
  const rVlan = v43 === undefined ? null : attempt(() => decodeVlanOption43(v43));
  const o120 = packet.options.get(OPTION.sipServers);
  const o15 = packet.options.get(OPTION.domainName);
  const o54 = packet.options.get(OPTION.serverId);
  const r43 = o43 === undefined ? null : attempt(() => decodeUcClientOption43(o43));
  const r120 = o120 === undefined ? null : attempt(() => decodeOption120(o120));
  const r15 = o15 === undefined ? null : attempt(() => decodeDomainNameOption(o15));
  return {
    server: o54?.length === 4 ? [...o54].join('.') : sourceAddress,
    option43: o43 === undefined ? null : { hex: hexOf(o43), decoded: r43!.value, error: r43!.error },
    option120: o120 === undefined ? null : { hex: hexOf(o120), names: r120!.value, error: r120!.error },
    vlan: v43 === undefined ? null : { hex: hexOf(v43), id: rVlan!.value, error: rVlan!.error },
    domainName: r15?.value ?? null,
    option15: o15 === undefined ? null : { hex: hexOf(o15), name: r15!.value, error: r15!.error },
  };
}
