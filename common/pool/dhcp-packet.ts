import { TetherError } from '../errors';
import { readTlvs } from './dhcp-tlv';

/**
 * DHCP packet codec (RFC 2131 / RFC 2132): the fixed BOOTP part, the magic cookie and the options.
 * Options that occur more than once are joined (RFC 3396), and option 52 (overload) makes the
 * `file` and `sname` fields carry options too, so an answer from any standard server reads the same.
 */

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const MAGIC = [99, 130, 83, 99] as const;
const FIXED = 236;
/** BOOTP's minimum message size; many relays drop shorter packets. */
const MIN_PACKET = 300;

export const MESSAGE_TYPE = {
  DHCPDISCOVER: 1,
  DHCPOFFER: 2,
  DHCPREQUEST: 3,
  DHCPDECLINE: 4,
  DHCPACK: 5,
  DHCPNAK: 6,
  DHCPRELEASE: 7,
  DHCPINFORM: 8,
} as const;

export const OPTION = {
  subnetMask: 1,
  router: 3,
  dnsServers: 6,
  domainName: 15,
  vendorSpecific: 43,
  overload: 52,
  messageType: 53,
  serverId: 54,
  parameterList: 55,
  maxMessageSize: 57,
  vendorClass: 60,
  clientId: 61,
  sipServers: 120,
} as const;

export interface DhcpPacket {
  /** 1 = BOOTREQUEST, 2 = BOOTREPLY. */
  readonly op: 1 | 2;
  readonly xid: number;
  readonly secs: number;
  readonly flags: number;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** Client hardware address, e.g. `02:00:00:00:00:01` (Ethernet, 6 bytes). */
  readonly chaddr: string;
  /** Option code → value (repeated options already joined). */
  readonly options: ReadonlyMap<number, Uint8Array>;
}

function malformed(message: string, detail: Record<string, string | number> = {}): never {
  throw new TetherError('DHCP_PACKET_MALFORMED', message, { detail });
}

function ipToBytes(ip: string, field: string): number[] {
  const parts = ip.split('.');
  const bytes = parts.map((p) => (/^[0-9]{1,3}$/.test(p) ? Number(p) : NaN));
  if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) throw new RangeError(`${field} '${ip}' is not an IPv4 address.`);
  return bytes;
}

const bytesToIp = (b: Uint8Array, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

function macToBytes(mac: string): number[] {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new RangeError(`'${mac}' is not a MAC address.`);
  return parts.map((p) => parseInt(p, 16));
}

export function encodeDhcpPacket(packet: DhcpPacket): Uint8Array {
  const out = new Uint8Array(Math.max(MIN_PACKET, FIXED + 4 + optionsLength(packet.options) + 1));
  const view = new DataView(out.buffer);
  out[0] = packet.op;
  out[1] = 1; // htype Ethernet
  out[2] = 6; // hlen
  out[3] = 0; // hops
  view.setUint32(4, packet.xid >>> 0);
  view.setUint16(8, packet.secs);
  view.setUint16(10, packet.flags);
  out.set(ipToBytes(packet.ciaddr, 'ciaddr'), 12);
  out.set(ipToBytes(packet.yiaddr, 'yiaddr'), 16);
  out.set(ipToBytes(packet.siaddr, 'siaddr'), 20);
  out.set(ipToBytes(packet.giaddr, 'giaddr'), 24);
  out.set(macToBytes(packet.chaddr), 28);
  out.set(MAGIC, FIXED);
  let at = FIXED + 4;
  for (const [code, value] of packet.options) {
    if (!Number.isInteger(code) || code < 1 || code > 254) throw new RangeError(`Option code ${code} is not 1–254.`);
    // Long values are split into several instances (RFC 3396).
    for (let off = 0; off < value.length || off === 0; off += 255) {
      const chunk = value.subarray(off, off + 255);
      out[at] = code;
      out[at + 1] = chunk.length;
      out.set(chunk, at + 2);
      at += 2 + chunk.length;
      if (value.length === 0) break;
    }
  }
  out[at] = 255;
  return out;
}

function optionsLength(options: ReadonlyMap<number, Uint8Array>): number {
  let n = 0;
  for (const value of options.values()) n += value.length + 2 * Math.max(1, Math.ceil(value.length / 255));
  return n;
}

/** Reads options from `area` into `into`, joining repeats. */
function readOptions(area: Uint8Array, base: number, where: string, into: Map<number, Uint8Array[]>): void {
  const walk = readTlvs(area, (t) =>
    t.kind === 'no-length'
      ? malformed(`Option ${t.code} in the ${where} is cut short: its length byte is missing.`, { option: t.code, offset: base + t.offset })
      : malformed(`Option ${t.code} in the ${where} says ${t.length} bytes but only ${t.remaining} remain.`, { option: t.code, offset: base + t.offset, length: t.length }),
  );
  for (const { code, value } of walk.options) {
    const list = into.get(code) ?? [];
    list.push(value);
    into.set(code, list);
  }
  // The options field must end with option 255; the file/sname fields may simply be full.
  if (!walk.ended && where === 'options field') malformed('The options field has no end option (255): the packet is truncated.', { offset: base + walk.stop });
}

export function decodeDhcpPacket(data: Uint8Array): DhcpPacket {
  if (data.length < FIXED + 4) malformed(`A DHCP packet is at least ${FIXED + 4} bytes; this one is ${data.length}.`, { length: data.length });
  const op = data[0];
  if (op !== 1 && op !== 2) malformed(`Byte 0 (op) is ${op}; a DHCP packet has 1 or 2.`, { op: op ?? -1 });
  if (data[1] !== 1 || data[2] !== 6) malformed(`Hardware type ${data[1]} with address length ${data[2]} is not Ethernet (1, 6).`, { htype: data[1]!, hlen: data[2]! });
  for (let k = 0; k < 4; k++) {
    if (data[FIXED + k] !== MAGIC[k]) malformed('The DHCP magic cookie (99.130.83.99) is missing: this is not a DHCP packet.');
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const collected = new Map<number, Uint8Array[]>();
  readOptions(data.subarray(FIXED + 4), FIXED + 4, 'options field', collected);
  const overload = collected.get(OPTION.overload)?.[0];
  if (overload !== undefined) {
    if (overload.length !== 1 || overload[0]! < 1 || overload[0]! > 3) malformed('Option 52 (overload) must be one byte of 1, 2 or 3.');
    if (overload[0]! & 1) readOptions(data.subarray(108, 236), 108, 'file field', collected);
    if (overload[0]! & 2) readOptions(data.subarray(44, 108), 44, 'sname field', collected);
  }
  const options = new Map<number, Uint8Array>();
  for (const [code, parts] of collected) options.set(code, concat(parts));
  const mac = [...data.subarray(28, 34)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return {
    op,
    xid: view.getUint32(4),
    secs: view.getUint16(8),
    flags: view.getUint16(10),
    ciaddr: bytesToIp(data, 12),
    yiaddr: bytesToIp(data, 16),
    siaddr: bytesToIp(data, 20),
    giaddr: bytesToIp(data, 24),
    chaddr: mac,
    options,
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The message type (option 53), or undefined when absent or malformed. */
export function messageType(packet: DhcpPacket): number | undefined {
  const v = packet.options.get(OPTION.messageType);
  return v?.length === 1 ? v[0] : undefined;
}

export interface InformRequest {
  readonly xid: number;
  readonly clientIp: string;
  readonly mac: string;
  readonly vendorClass: string;
  /** Option codes to ask for (option 55). */
  readonly parameters: readonly number[];
}

/** A DHCPINFORM as the phone sends it: ciaddr set, option 60 vendor class, option 55 list [S9]. */
export function buildInform(req: InformRequest): DhcpPacket {
  const options = new Map<number, Uint8Array>([
    [OPTION.messageType, Uint8Array.of(MESSAGE_TYPE.DHCPINFORM)],
    [OPTION.clientId, Uint8Array.from([1, ...macToBytes(req.mac)])],
    [OPTION.vendorClass, Uint8Array.from(req.vendorClass, (c) => c.charCodeAt(0))],
    [OPTION.parameterList, Uint8Array.from(req.parameters)],
    [OPTION.maxMessageSize, Uint8Array.of(0x05, 0xdc)], // 1500
  ]);
  return {
    op: 1,
    xid: req.xid,
    secs: 0,
    flags: 0, // unicast reply to ciaddr (RFC 2131 §4.4.3), so a socket bound to our address gets it
    ciaddr: req.clientIp,
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: req.mac,
    options,
  };
}
