/**
 * Schema-driven binary encoding of message bodies (docs/tether-protocol.md §7.1). One schema gives
 * the encoder, the validating decoder and the TypeScript type, so what one side may send is exactly
 * what the other accepts. Every violation is a TetherError PROTOCOL_BAD_MESSAGE naming the field.
 */
import { TetherError } from '../../common/errors';

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf.fill(0); // a message may hold a secret: leave no stray copy behind
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  u53(v: number): void {
    this.room(8);
    this.view.setUint32(this.length, v % 0x1_0000_0000, true);
    this.view.setUint32(this.length + 4, Math.floor(v / 0x1_0000_0000), true);
    this.length += 8;
  }
  bytes(v: Uint8Array): void {
    this.room(v.length);
    this.buf.set(v, this.length);
    this.length += v.length;
  }
  /** The encoded bytes (a view; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

export class Reader {
  private readonly view: DataView;
  offset = 0;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  get left(): number {
    return this.bytes.length - this.offset;
  }
  private need(n: number, path: string): void {
    if (n > this.left) throw bad(path, 'truncated');
  }
  u8(path: string): number {
    this.need(1, path);
    return this.bytes[this.offset++]!;
  }
  u16(path: string): number {
    this.need(2, path);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }
  u32(path: string): number {
    this.need(4, path);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  u53(path: string): number {
    this.need(8, path);
    const lo = this.view.getUint32(this.offset, true);
    const hi = this.view.getUint32(this.offset + 4, true);
    if (hi > 0x1f_ffff) throw bad(path, 'number beyond 2^53-1');
    this.offset += 8;
    return hi * 0x1_0000_0000 + lo;
  }
  /** A view of the next n bytes (no copy). */
  take(n: number, path: string): Uint8Array {
    this.need(n, path);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
}

export function bad(path: string, why: string): TetherError {
  return new TetherError('PROTOCOL_BAD_MESSAGE', `Invalid message field ${path || '(body)'}: ${why}.`, {
    detail: { field: path || '(body)', reason: why },
  });
}

export interface Codec<T> {
  /** Human description for the spec, e.g. "string(1..64)". */
  readonly describe: string;
  encode(w: Writer, value: T, path: string): void;
  decode(r: Reader, path: string): T;
}

export type CodecType<C> = C extends Codec<infer T> ? T : never;

function uint(bits: 8 | 16 | 32, min: number, max: number): Codec<number> {
  const name = `u${bits}`;
  const check = (v: unknown, path: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(path, `${name} out of range ${min}..${max}`);
    return v;
  };
  return {
    describe: min === 0 && max === 2 ** bits - 1 ? name : `${name}(${min}..${max})`,
    encode(w, v, path) {
      check(v, path);
      if (bits === 8) w.u8(v);
      else if (bits === 16) w.u16(v);
      else w.u32(v);
    },
    decode(r, path) {
      return check(bits === 8 ? r.u8(path) : bits === 16 ? r.u16(path) : r.u32(path), path);
    },
  };
}

export const u8 = (min = 0, max = 0xff): Codec<number> => uint(8, min, max);
export const u16 = (min = 0, max = 0xffff): Codec<number> => uint(16, min, max);
export const u32 = (min = 0, max = 0xffff_ffff): Codec<number> => uint(32, min, max);

export function u53(min = 0, max = Number.MAX_SAFE_INTEGER): Codec<number> {
  const check = (v: unknown, path: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw bad(path, `u53 out of range ${min}..${max}`);
    return v;
  };
  return {
    describe: `u53(${min}..${max})`,
    encode(w, v, path) {
      w.u53(check(v, path));
    },
    decode(r, path) {
      return check(r.u53(path), path);
    },
  };
}

export const bool: Codec<boolean> = {
  describe: 'bool',
  encode(w, v, path) {
    if (typeof v !== 'boolean') throw bad(path, 'not a boolean');
    w.u8(v ? 1 : 0);
  },
  decode(r, path) {
    const b = r.u8(path);
    if (b > 1) throw bad(path, 'bool byte not 0 or 1');
    return b === 1;
  },
};

/** A bool that must be true (a reply that can only say yes; no means an error reply). */
export const alwaysTrue: Codec<true> = {
  describe: 'bool (always 1)',
  encode(w, v, path) {
    if (v !== true) throw bad(path, 'must be true');
    w.u8(1);
  },
  decode(r, path) {
    if (r.u8(path) !== 1) throw bad(path, 'must be 1');
    return true;
  },
};

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** The longest prefix of `text` whose UTF-8 form fits in `maxBytes` (never splits a character). */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

export interface StringRule {
  readonly min?: number;
  /** Upper bound on the UTF-8 byte length. */
  readonly max: number;
  /** Whole-string pattern (anchor it). */
  readonly pattern?: RegExp;
  /** Name of the pattern for the spec. */
  readonly patternName?: string;
}

export function string(rule: StringRule): Codec<string> {
  const min = rule.min ?? 0;
  const checkText = (s: string, path: string): void => {
    if (rule.pattern !== undefined && !rule.pattern.test(s)) throw bad(path, `does not match ${rule.patternName ?? rule.pattern.source}`);
  };
  return {
    describe: `string(${min}..${rule.max}${rule.patternName === undefined ? '' : `, ${rule.patternName}`})`,
    encode(w, v, path) {
      if (typeof v !== 'string') throw bad(path, 'not a string');
      const b = utf8Encoder.encode(v);
      if (b.length < min || b.length > rule.max) throw bad(path, `length ${b.length} not in ${min}..${rule.max}`);
      checkText(v, path);
      w.u32(b.length);
      w.bytes(b);
    },
    decode(r, path) {
      const n = r.u32(path);
      if (n < min || n > rule.max) throw bad(path, `length ${n} not in ${min}..${rule.max}`);
      let s: string;
      try {
        s = utf8Decoder.decode(r.take(n, path));
      } catch (err) {
        if (err instanceof TetherError) throw err;
        throw bad(path, 'not well-formed UTF-8');
      }
      checkText(s, path);
      return s;
    },
  };
}

export function bytes(min: number, max: number): Codec<Uint8Array> {
  return {
    describe: min === max ? `bytes(${min})` : `bytes(${min}..${max})`,
    encode(w, v, path) {
      if (!(v instanceof Uint8Array)) throw bad(path, 'not bytes');
      if (v.length < min || v.length > max) throw bad(path, `length ${v.length} not in ${min}..${max}`);
      w.u32(v.length);
      w.bytes(v);
    },
    decode(r, path) {
      const n = r.u32(path);
      if (n < min || n > max) throw bad(path, `length ${n} not in ${min}..${max}`);
      // A copy, so a kept value does not pin (or alias) the whole decrypted frame.
      return new Uint8Array(r.take(n, path)); // copies (Buffer#slice would not)
    },
  };
}

export function enumOf<const V extends string>(values: readonly V[]): Codec<V> {
  return {
    describe: `enum{${values.join(',')}}`,
    encode(w, v, path) {
      const i = values.indexOf(v);
      if (i < 0) throw bad(path, `not one of ${values.join(', ')}`);
      w.u8(i);
    },
    decode(r, path) {
      const i = r.u8(path);
      const v = values[i];
      if (v === undefined) throw bad(path, `enum index ${i} out of range`);
      return v;
    },
  };
}

/** A fixed value of a numeric set, e.g. RSA key sizes; encoded as u32. */
export function oneOfNumbers<const V extends number>(values: readonly V[]): Codec<V> {
  return {
    describe: `u32{${values.join(',')}}`,
    encode(w, v, path) {
      if (!values.includes(v)) throw bad(path, `not one of ${values.join(', ')}`);
      w.u32(v);
    },
    decode(r, path) {
      const v = r.u32(path);
      if (!(values as readonly number[]).includes(v)) throw bad(path, `not one of ${values.join(', ')}`);
      return v as V;
    },
  };
}

export function nullable<T>(inner: Codec<T>): Codec<T | null> {
  return {
    describe: `${inner.describe}?`,
    encode(w, v, path) {
      if (v === null) w.u8(0);
      else if (v === undefined) throw bad(path, 'missing (use null)');
      else {
        w.u8(1);
        inner.encode(w, v, path);
      }
    },
    decode(r, path) {
      const b = r.u8(path);
      if (b === 0) return null;
      if (b !== 1) throw bad(path, 'nullable byte not 0 or 1');
      return inner.decode(r, path);
    },
  };
}

export function array<T>(item: Codec<T>, min: number, max: number): Codec<readonly T[]> {
  return {
    describe: `${item.describe}[${min}..${max}]`,
    encode(w, v, path) {
      if (!Array.isArray(v)) throw bad(path, 'not a list');
      if (v.length < min || v.length > max) throw bad(path, `count ${v.length} not in ${min}..${max}`);
      w.u32(v.length);
      v.forEach((x: T, i) => item.encode(w, x, `${path}[${i}]`));
    },
    decode(r, path) {
      const n = r.u32(path);
      if (n < min || n > max) throw bad(path, `count ${n} not in ${min}..${max}`);
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(item.decode(r, `${path}[${i}]`));
      return out;
    },
  };
}

type Fields = Record<string, Codec<unknown>>;
export type StructType<F extends Fields> = { readonly [K in keyof F]: CodecType<F[K]> };

export interface StructCodec<F extends Fields> extends Codec<StructType<F>> {
  readonly fields: F;
}

export function struct<F extends Fields>(fields: F): StructCodec<F> {
  const keys = Object.keys(fields);
  return {
    fields,
    describe: keys.length === 0 ? '{}' : `{ ${keys.map((k) => `${k}: ${fields[k]!.describe}`).join(', ')} }`,
    encode(w, v, path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path, 'not a record');
      const rec = v as Record<string, unknown>;
      for (const k of Object.keys(rec)) if (!Object.hasOwn(fields, k)) throw bad(path, `unknown field ${k}`);
      for (const k of keys) fields[k]!.encode(w, rec[k], path ? `${path}.${k}` : k);
    },
    decode(r, path) {
      const out: Record<string, unknown> = {};
      for (const k of keys) out[k] = fields[k]!.decode(r, path ? `${path}.${k}` : k);
      return out as StructType<F>;
    },
  };
}

type Variants = Record<string, StructCodec<Fields>>;
export type UnionType<V extends Variants> = {
  [K in keyof V]: { readonly kind: K } & CodecType<V[K]>;
}[keyof V];

/** A union discriminated by a `kind` field: u8 variant index, then the variant's fields. */
export function union<V extends Variants>(variants: V): Codec<UnionType<V>> {
  const names = Object.keys(variants);
  return {
    describe: names.map((n) => `${n}: ${variants[n]!.describe}`).join(' | '),
    encode(w, v, path) {
      if (typeof v !== 'object' || v === null) throw bad(path, 'not a record');
      const { kind, ...rest } = v as { kind?: unknown };
      const i = typeof kind === 'string' ? names.indexOf(kind) : -1;
      if (i < 0) throw bad(path ? `${path}.kind` : 'kind', `not one of ${names.join(', ')}`);
      w.u8(i);
      variants[names[i]!]!.encode(w, rest, path);
    },
    decode(r, path) {
      const i = r.u8(path ? `${path}.kind` : 'kind');
      const name = names[i];
      if (name === undefined) throw bad(path ? `${path}.kind` : 'kind', `variant index ${i} out of range`);
      return { kind: name, ...(variants[name]!.decode(r, path) as object) } as UnionType<V>;
    },
  };
}

/** Encodes a whole body. */
export function encodeBody<T>(codec: Codec<T>, value: T): Uint8Array {
  const w = new Writer();
  codec.encode(w, value, '');
  return w.finish();
}

/** Decodes a whole body; trailing bytes are a violation. */
export function decodeBody<T>(codec: Codec<T>, body: Uint8Array): T {
  const r = new Reader(body);
  const v = codec.decode(r, '');
  if (r.left !== 0) throw bad('', `${r.left} trailing bytes`);
  return v;
}
