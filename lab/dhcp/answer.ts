import { toTetherError, type TetherError } from '../../common/errors';
import { UC_VENDOR_CLASS, VLAN_VENDOR_CLASS } from '../../common/pool/dhcp-options';
import { decodeDhcpPacket, encodeDhcpPacket, MESSAGE_TYPE, messageType, OPTION, type DhcpPacket } from '../../common/pool/dhcp-packet';
import type { LabDhcpOptions } from '../context';

/**
 * What the lab's DHCP responder does with one datagram, as a pure function (no socket), so every
 * rule is testable and fuzzable on its own.
 *
 * It behaves as a Lync Registrar's built-in DHCP responder [S4]: it answers ONLY a DHCPINFORM
 * whose option 60 is `MS-UC-Client` (case-sensitive [S9][S2]) and whose option 55 asks for 43 or
 * 120, with a DHCPACK carrying those options, and never hands out an address (yiaddr stays
 * 0.0.0.0; DISCOVER and REQUEST go unanswered). Beyond Lync's responder the lab also plays the
 * site DHCP server's VLAN answer: a DHCPINFORM with vendor class `CPE-OCPHONE` asking for 43 gets
 * sub-option 10 = the voice VLAN [S15][S2] (documented as the lab's own addition in docs/lab.md).
 */

export type IgnoredReason =
  | 'not-a-request' // op is BOOTREPLY: another server's answer
  | 'not-inform' // DISCOVER, REQUEST, RELEASE…: the responder hands out no addresses [S4]
  | 'vendor-class' // no option 60, or a class other than MS-UC-Client / CPE-OCPHONE
  | 'not-asked' // option 55 does not ask for what this class would get
  | 'vlan-off'; // CPE-OCPHONE while the lab has no VLAN to hand out

export type DhcpVerdict =
  | { readonly kind: 'answer'; readonly reply: Uint8Array; readonly request: DhcpPacket; readonly vendorClass: string }
  | { readonly kind: 'ignored'; readonly reason: IgnoredReason }
  | { readonly kind: 'malformed'; readonly error: TetherError };

export interface AnswerContext {
  /** The option bytes to hand out now (read per packet, so a fault switched on acts at once). */
  readonly options: () => LabDhcpOptions;
  /** The responder's own IPv4 address, sent as option 54 (server identifier). */
  readonly serverId: string;
}

const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);

function ipBytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split('.').map(Number));
}

export function answerDhcp(datagram: Uint8Array, ctx: AnswerContext): DhcpVerdict {
  let request: DhcpPacket;
  try {
    request = decodeDhcpPacket(datagram);
  } catch (err) {
    return { kind: 'malformed', error: toTetherError(err) };
  }
  if (request.op !== 1) return { kind: 'ignored', reason: 'not-a-request' };
  if (messageType(request) !== MESSAGE_TYPE.DHCPINFORM) return { kind: 'ignored', reason: 'not-inform' };
  const vc = request.options.get(OPTION.vendorClass);
  const vendorClass = vc === undefined ? '' : latin1(vc);
  const asked = new Set(request.options.get(OPTION.parameterList) ?? []);
  const offer = ctx.options();
  const give: [number, Uint8Array][] = [];
  if (vendorClass === UC_VENDOR_CLASS) {
    if (asked.has(OPTION.vendorSpecific)) give.push([OPTION.vendorSpecific, offer.option43]);
    if (asked.has(OPTION.sipServers)) give.push([OPTION.sipServers, offer.option120]);
  } else if (vendorClass.toUpperCase() === VLAN_VENDOR_CLASS) {
    // Both spellings are documented: CPE-OCPhone [S15] and CPE-OCPHONE [S2].
    if (!asked.has(OPTION.vendorSpecific)) return { kind: 'ignored', reason: 'not-asked' };
    if (offer.vlanOption43 === null) return { kind: 'ignored', reason: 'vlan-off' };
    give.push([OPTION.vendorSpecific, offer.vlanOption43]);
  } else {
    return { kind: 'ignored', reason: 'vendor-class' };
  }
  if (give.length === 0) return { kind: 'ignored', reason: 'not-asked' };

  let reply: Uint8Array;
  try {
    reply = encodeDhcpPacket({
      op: 2,
      xid: request.xid,
      secs: 0,
      flags: request.flags,
      ciaddr: request.ciaddr,
      yiaddr: '0.0.0.0', // a DHCPACK to an INFORM assigns nothing (RFC 2131 §4.3.5)
      siaddr: '0.0.0.0',
      giaddr: request.giaddr,
      chaddr: request.chaddr,
      options: new Map<number, Uint8Array>([
        [OPTION.messageType, Uint8Array.of(MESSAGE_TYPE.DHCPACK)],
        [OPTION.serverId, ipBytes(ctx.serverId)],
        ...give,
      ]),
    });
  } catch (err) {
    // The decoder accepted it, so this cannot normally happen; still a drop, never a crash.
    return { kind: 'malformed', error: toTetherError(err) };
  }
  return { kind: 'answer', reply, request, vendorClass };
}
