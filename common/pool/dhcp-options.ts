import { TetherError } from '../errors';
import type { ErrorCode } from '../errors';
import { readTlvs } from './dhcp-tlv';

/**
 * Codecs for the DHCP options a Lync Phone Edition phone reads (reference §1):
 *  - option 43 for vendor class `MS-UC-Client`: sub-options 1–5 that assemble the CertProv URL;
 *  - option 43 for vendor class `CPE-OCPHONE`: sub-option 10, the voice VLAN ID;
 *  - option 120 (RFC 3361): the SIP server (first-logon pool) FQDN(s).
 * Pure code, shared by the client (main/) and the lab's DHCP side.
 */

export const UC_VENDOR_CLASS = 'MS-UC-Client';
export const VLAN_VENDOR_CLASS = 'CPE-OCPHONE';

/** Sub-option codes of option 43 for MS-UC-Client (names as in DHCPConfigScript.bat [S3]). */
export const UC_SUBOPTIONS = {
  UCIdentifier: 1,
  URLScheme: 2,
  WebServerFqdn: 3,
  WebServerPort: 4,
  CertProvRelPath: 5,
} as const;

export const VLAN_SUBOPTION = 10;

export interface UcClientOption43 {
  readonly ucIdentifier: string;
  readonly urlScheme: 'http' | 'https';
  readonly webServerFqdn: string;
  readonly webServerPort: number;
  readonly certProvRelPath: string;
}

export interface DecodedUcClientOption43 extends UcClientOption43 {
  /** `<scheme>://<fqdn>:<port><path>`, the form the vendor documents [S1]. */
  readonly certProvUrl: string;
}

export interface SubOption {
  readonly code: number;
  readonly value: Uint8Array;
}

function fail(code: ErrorCode, message: string, detail: Record<string, string | number | boolean | null> = {}): never {
  throw new TetherError(code, message, { detail });
}

/**
 * Splits an encapsulated vendor option into its TLVs. Code 0 is a one-byte pad and 255 ends the
 * list, as in the options field itself (RFC 2132 §8.4), so servers that pad are still read.
 */
export function decodeSubOptions(data: Uint8Array, errorCode: ErrorCode): SubOption[] {
  const { options } = readTlvs(data, (t) =>
    t.kind === 'no-length'
      ? fail(errorCode, `Sub-option ${t.code} is cut short: its length byte is missing.`, { subOption: t.code, offset: t.offset })
      : fail(errorCode, `Sub-option ${t.code} says ${t.length} bytes but only ${t.remaining} remain.`, { subOption: t.code, offset: t.offset, length: t.length }),
  );
  return options.map(({ code, value }) => ({ code, value }));
}

export function encodeSubOptions(options: readonly SubOption[]): Uint8Array {
  const parts: number[] = [];
  for (const { code, value } of options) {
    if (!Number.isInteger(code) || code < 1 || code > 254) throw new RangeError(`Sub-option code ${code} is not 1–254.`);
    if (value.length > 255) throw new RangeError(`Sub-option ${code} is longer than 255 bytes.`);
    parts.push(code, value.length, ...value);
  }
  if (parts.length > 255) throw new RangeError('The encapsulated options exceed 255 bytes (one DHCP option).');
  return Uint8Array.from(parts);
}

/** Printable ASCII only: the values are plain text without NUL [S2][S6]. */
function asciiValue(value: Uint8Array, errorCode: ErrorCode, what: string): string {
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    if (b < 0x20 || b > 0x7e) {
      fail(errorCode, `${what} holds a non-printable byte 0x${b.toString(16).padStart(2, '0')} at position ${i}${b === 0 ? ' (a NUL; Lync expects none)' : ''}.`, {
        field: what,
        offset: i,
        byte: b,
      });
    }
  }
  return String.fromCharCode(...value);
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `name` is not a usable host FQDN, or null when it is one (LDH labels, at least two, ≤ 253 chars). */
export function fqdnProblem(name: string): string | null {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0) return 'it is empty';
  if (bare.length > 253) return 'it is longer than 253 characters';
  const labels = bare.split('.');
  if (labels.length < 2) return 'it is a single label, not a fully qualified name';
  for (const label of labels) {
    if (!LABEL.test(label)) return `label '${label}' is not letters, digits and inner hyphens (1–63 characters)`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'it looks like an IP address, not a name';
  return null;
}

/**
 * Option 15 (RFC 2132 §3.17), the client's DNS domain, decoded strictly: ASCII letters, digits and
 * inner hyphens in dot-separated labels (a single label is allowed), ≤ 253 characters; trailing
 * NULs some servers add are dropped. Anything else (control bytes, non-ASCII) is
 * DHCP_OPTION15_MALFORMED, so network bytes never pass as a name.
 */
export function decodeDomainNameOption(data: Uint8Array): string {
  const code: ErrorCode = 'DHCP_OPTION15_MALFORMED';
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  const text = String.fromCharCode(...data.subarray(0, end));
  const bare = text.endsWith('.') ? text.slice(0, -1) : text;
  if (bare.length === 0) fail(code, 'Option 15 (domain name) is empty.');
  if (bare.length > 253) fail(code, 'Option 15 (domain name) is longer than 253 characters.', { length: bare.length });
  for (const label of bare.split('.')) {
    if (!LABEL.test(label)) fail(code, `Option 15 (domain name) '${printable(text.slice(0, 80))}' is not a DNS name: label '${printable(label.slice(0, 63))}' is not letters, digits and inner hyphens.`);
  }
  return bare;
}

/** Decodes option 43 for MS-UC-Client and assembles the CertProv URL. */
export function decodeUcClientOption43(data: Uint8Array): DecodedUcClientOption43 {
  const code: ErrorCode = 'DHCP_OPTION43_MALFORMED';
  const subs = decodeSubOptions(data, code);
  const values = new Map<number, string>();
  for (const s of subs) {
    if (s.code < 1 || s.code > 5) continue; // other sub-options belong to other uses; ignore them
    if (values.has(s.code)) fail(code, `Sub-option ${s.code} appears twice.`, { subOption: s.code });
    values.set(s.code, asciiValue(s.value, code, `Sub-option ${s.code}`));
  }
  const missing = Object.entries(UC_SUBOPTIONS)
    .filter(([, n]) => n !== UC_SUBOPTIONS.UCIdentifier && !values.has(n))
    .map(([name, n]) => `${n} (${name})`);
  if (missing.length > 0) {
    throw new TetherError('DHCP_OPTION43_INCOMPLETE', `Option 43 lacks sub-option ${missing.join(', ')}.`, {
      detail: { missing: missing.join(', ') },
    });
  }
  const ucIdentifier = values.get(UC_SUBOPTIONS.UCIdentifier) ?? UC_VENDOR_CLASS;
  if (ucIdentifier !== UC_VENDOR_CLASS) {
    fail(code, `Sub-option 1 (UCIdentifier) is '${ucIdentifier}', expected '${UC_VENDOR_CLASS}'.`, { ucIdentifier });
  }
  const scheme = values.get(UC_SUBOPTIONS.URLScheme)!;
  if (scheme !== 'http' && scheme !== 'https') fail(code, `Sub-option 2 (URLScheme) is '${scheme}', expected 'https' or 'http'.`, { urlScheme: scheme });
  const fqdn = values.get(UC_SUBOPTIONS.WebServerFqdn)!;
  const problem = fqdnProblem(fqdn);
  if (problem) fail(code, `Sub-option 3 (WebServerFqdn) '${fqdn}' is not an FQDN: ${problem}.`, { webServerFqdn: fqdn });
  const portText = values.get(UC_SUBOPTIONS.WebServerPort)!;
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) fail(code, `Sub-option 4 (WebServerPort) '${portText}' is not a port number (ASCII digits, 1–65535).`, { webServerPort: portText });
  const path = values.get(UC_SUBOPTIONS.CertProvRelPath)!;
  if (!path.startsWith('/') || /[\s?#]/.test(path)) {
    fail(code, `Sub-option 5 (CertProvRelPath) '${path}' is not an absolute path such as /CertProv/CertProvisioningService.svc.`, { certProvRelPath: path });
  }
  const host = fqdn.endsWith('.') ? fqdn.slice(0, -1) : fqdn;
  return {
    ucIdentifier,
    urlScheme: scheme,
    webServerFqdn: host,
    webServerPort: port,
    certProvRelPath: path,
    certProvUrl: `${scheme}://${host}:${port}${path}`,
  };
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

export function encodeUcClientOption43(value: UcClientOption43): Uint8Array {
  for (const [field, text] of Object.entries({ ...value, webServerPort: String(value.webServerPort) })) {
    if (!/^[\x20-\x7e]*$/.test(text)) throw new RangeError(`${field} must be printable ASCII.`);
  }
  return encodeSubOptions([
    { code: UC_SUBOPTIONS.UCIdentifier, value: ascii(value.ucIdentifier) },
    { code: UC_SUBOPTIONS.URLScheme, value: ascii(value.urlScheme) },
    { code: UC_SUBOPTIONS.WebServerFqdn, value: ascii(value.webServerFqdn) },
    { code: UC_SUBOPTIONS.WebServerPort, value: ascii(String(value.webServerPort)) },
    { code: UC_SUBOPTIONS.CertProvRelPath, value: ascii(value.certProvRelPath) },
  ]);
}

/** Splits a CertProv URL into the five sub-option values (the inverse of the assembly above). */
export function ucClientOption43FromUrl(url: string): UcClientOption43 {
  const u = new URL(url);
  const scheme = u.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') throw new RangeError(`'${url}' is not an http(s) URL.`);
  return {
    ucIdentifier: UC_VENDOR_CLASS,
    urlScheme: scheme,
    webServerFqdn: u.hostname,
    webServerPort: u.port === '' ? (scheme === 'https' ? 443 : 80) : Number(u.port),
    certProvRelPath: u.pathname,
  };
}

/**
 * Decodes option 43 for CPE-OCPHONE: sub-option 10 is the voice VLAN ID [S15][S5]. The byte width
 * is not published; we read a 2-byte (WORD) or 4-byte (DWORD) big-endian number, which is what a
 * Windows DHCP server sends for those vendor option types (docs/pool/discovery.md).
 */
export function decodeVlanOption43(data: Uint8Array): number {
  const subs = decodeSubOptions(data, 'DHCP_VLAN_MALFORMED');
  const found = subs.filter((s) => s.code === VLAN_SUBOPTION);
  if (found.length === 0) fail('DHCP_VLAN_MALFORMED', 'Option 43 for CPE-OCPHONE has no sub-option 10 (VLAN ID).');
  if (found.length > 1) fail('DHCP_VLAN_MALFORMED', 'Sub-option 10 (VLAN ID) appears twice.');
  const v = found[0]!.value;
  let id: number;
  if (v.length === 2) id = (v[0]! << 8) | v[1]!;
  else if (v.length === 4) id = ((v[0]! << 24) >>> 0) + (v[1]! << 16) + (v[2]! << 8) + v[3]!;
  else fail('DHCP_VLAN_MALFORMED', `Sub-option 10 (VLAN ID) is ${v.length} bytes; expected 2 or 4.`, { length: v.length });
  if (id < 1 || id > 4094) throw new TetherError('DHCP_VLAN_OUT_OF_RANGE', `VLAN ID ${id} is outside 1–4094.`, { detail: { vlanId: id } });
  return id;
}

export function encodeVlanOption43(vlanId: number): Uint8Array {
  if (!Number.isInteger(vlanId) || vlanId < 1 || vlanId > 4094) throw new RangeError(`VLAN ID ${vlanId} is not 1–4094.`);
  return encodeSubOptions([{ code: VLAN_SUBOPTION, value: Uint8Array.of(vlanId >> 8, vlanId & 0xff) }]);
}

/** The plain message Lync's own documentation gives for an address in option 120 [S2][S6]. */
export const OPTION120_ADDRESS_MESSAGE =
  'Option 120 carries an IP address (encoding 1). Lync does not support IP addresses in option 120: it must be an FQDN.';

/**
 * Decodes option 120 (RFC 3361). Encoding 0: one or more names in DNS label form (no compression
 * pointers: RFC 3361 names are stand-alone). Encoding 1 (addresses) is refused, as Lync does.
 */
export function decodeOption120(data: Uint8Array): string[] {
  const code: ErrorCode = 'DHCP_OPTION120_MALFORMED';
  if (data.length === 0) fail(code, 'Option 120 is empty: it has no encoding byte.');
  const enc = data[0]!;
  if (enc === 1) throw new TetherError('DHCP_OPTION120_ADDRESS', OPTION120_ADDRESS_MESSAGE, { detail: { encoding: 1 } });
  if (enc !== 0) fail(code, `Option 120 has encoding byte ${enc}; only 0 (names) is defined for an FQDN.`, { encoding: enc });
  const names: string[] = [];
  let i = 1;
  if (i >= data.length) fail(code, 'Option 120 has the encoding byte but no name.');
  while (i < data.length) {
    const labels: string[] = [];
    let wire = 0;
    for (;;) {
      if (i >= data.length) fail(code, `Name ${names.length + 1} in option 120 is cut short: it has no terminating zero label.`, { offset: i });
      const len = data[i]!;
      if (len === 0) {
        i += 1;
        break;
      }
      if (len >= 0xc0) fail(code, `Name ${names.length + 1} in option 120 uses a compression pointer, which option 120 does not allow.`, { offset: i });
      if (len > 63) fail(code, `A label in option 120 says ${len} bytes; labels are at most 63.`, { offset: i, length: len });
      if (i + 1 + len > data.length) fail(code, `A label in option 120 says ${len} bytes but only ${data.length - i - 1} remain.`, { offset: i, length: len });
      const label = String.fromCharCode(...data.slice(i + 1, i + 1 + len));
      if (!LABEL.test(label)) fail(code, `Label '${printable(label)}' in option 120 is not letters, digits and inner hyphens.`, { offset: i });
      labels.push(label);
      wire += 1 + len;
      if (wire + 1 > 255) fail(code, 'A name in option 120 is longer than 255 bytes.', { offset: i });
      i += 1 + len;
    }
    const name = labels.join('.');
    const problem = fqdnProblem(name);
    if (problem) fail(code, `'${name}' in option 120 is not an FQDN: ${problem}.`, { name });
    names.push(name);
  }
  return names;
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function encodeOption120(names: readonly string[]): Uint8Array {
  if (names.length === 0) throw new RangeError('Option 120 needs at least one name.');
  const out: number[] = [0];
  for (const raw of names) {
    const name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
    const problem = fqdnProblem(name);
    if (problem) throw new RangeError(`'${raw}' is not an FQDN: ${problem}.`);
    for (const label of name.split('.')) out.push(label.length, ...ascii(label));
    out.push(0);
  }
  if (out.length > 255) throw new RangeError('Option 120 would exceed 255 bytes.');
  return Uint8Array.from(out);
}
