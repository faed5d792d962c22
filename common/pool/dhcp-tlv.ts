/**
 * The DHCP option grammar shared by the options field and by encapsulated vendor options
 * (RFC 2132 §2, §8.4): code, length, value; code 0 is a one-byte pad and 255 ends the list.
 */

export interface Tlv {
  readonly code: number;
  readonly value: Uint8Array;
  /** Where the option's code byte is, within the area walked. */
  readonly offset: number;
}

/** How a TLV is cut short: no length byte, or a length that runs past the area. */
export type TlvTruncation =
  | { readonly kind: 'no-length'; readonly code: number; readonly offset: number }
  | { readonly kind: 'overrun'; readonly code: number; readonly offset: number; readonly length: number; readonly remaining: number };

export interface TlvWalk {
  readonly options: Tlv[];
  /** Whether an end option (255) closed the list. */
  readonly ended: boolean;
  /** Where the walk stopped (the end option, or the area's length). */
  readonly stop: number;
}

/** Reads the TLVs of `area`; a truncated one is handed to `truncated`, which throws the caller's typed error. */
export function readTlvs(area: Uint8Array, truncated: (t: TlvTruncation) => never): TlvWalk {
  const options: Tlv[] = [];
  let i = 0;
  while (i < area.length) {
    const code = area[i]!;
    if (code === 0) {
      i += 1;
      continue;
    }
    if (code === 255) return { options, ended: true, stop: i };
    if (i + 1 >= area.length) truncated({ kind: 'no-length', code, offset: i });
    const length = area[i + 1]!;
    if (i + 2 + length > area.length) truncated({ kind: 'overrun', code, offset: i, length, remaining: area.length - i - 2 });
    options.push({ code, value: area.slice(i + 2, i + 2 + length), offset: i });
    i += 2 + length;
  }
  return { options, ended: false, stop: i };
}
