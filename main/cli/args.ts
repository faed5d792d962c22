import { usageError } from './io';

/**
 * The one argument walker every command uses: a command declares its flags in a table, and gets
 * them back typed, with the same usage errors everywhere (unknown option, missing value, a
 * single-valued flag given twice). Flags take their value as `--flag VALUE` or `--flag=VALUE`.
 */

/** Converts and checks one flag's text; throws a usage error when it is not acceptable. */
export type ValueParser<T> = (text: string, flag: string) => T;

/** Present or not; takes no value. */
export interface BooleanFlag {
  readonly kind: 'boolean';
}

/** One value, given at most once. */
export interface SingleFlag<T> {
  readonly kind: 'single';
  readonly parse: ValueParser<T>;
}

/** Every value kept in order; `list` also splits each value at commas (`--virtual A,B --virtual C`). */
export interface ManyFlag<T> {
  readonly kind: 'repeatable' | 'list';
  readonly parse: ValueParser<T>;
}

/**
 * One value that may be left out: `--lab` alone means `fallback`, `--lab DIR` or `--lab=DIR` gives
 * one. A following argument that starts with `-` is the next flag, not the value.
 */
export interface OptionalValueFlag<T> {
  readonly kind: 'optional';
  readonly parse: ValueParser<T>;
  readonly fallback: string;
}

export type FlagSpec = BooleanFlag | SingleFlag<unknown> | ManyFlag<unknown> | OptionalValueFlag<unknown>;

/** Flag names without the leading `--`, e.g. `{ 'http-port': flag.number(…) }`. */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

export type ParsedFlags<T extends FlagTable> = {
  -readonly [K in keyof T]: T[K] extends BooleanFlag ? boolean : T[K] extends SingleFlag<infer V> ? V | undefined : T[K] extends OptionalValueFlag<infer V> ? V | undefined : T[K] extends ManyFlag<infer V> ? V[] : never;
};

export interface ParsedArgs<T extends FlagTable> {
  readonly flags: ParsedFlags<T>;
  /** Arguments that are not flags, in order (only when the command accepts them). */
  readonly positionals: string[];
}

export interface ParseOptions {
  /** Appended to the unknown-option and missing-value errors. */
  readonly usage: string;
  /** Accept arguments that do not start with `-` (e.g. a verb); otherwise they are unknown options. */
  readonly positionals?: boolean;
  /** Flags refused with their own message, with or without `=VALUE` (e.g. secrets on argv). */
  readonly refused?: Readonly<Record<string, string>>;
  /** Short spellings of flags in the table, e.g. `{ '-y': '--yes' }`. */
  readonly aliases?: Readonly<Record<string, `--${string}`>>;
  /** What the unknown-word error calls it: 'option' (default) or 'argument'. */
  readonly unknownNoun?: 'option' | 'argument';
}

const text: ValueParser<string> = (t) => t;

function repeatable(): ManyFlag<string>;
function repeatable<T>(parse: ValueParser<T>): ManyFlag<T>;
function repeatable(parse: ValueParser<unknown> = text): ManyFlag<unknown> {
  return { kind: 'repeatable', parse };
}

function list(): ManyFlag<string>;
function list<T>(parse: ValueParser<T>): ManyFlag<T>;
function list(parse: ValueParser<unknown> = text): ManyFlag<unknown> {
  return { kind: 'list', parse };
}

export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  /** The usage error's text when the value is not a whole number in range. */
  readonly message?: string;
}

/** A whole decimal number (no sign, exponent or spaces) within [min, max]. */
export function wholeNumber(t: string, flag: string, range: NumberRange = {}): number {
  const n = Number(t);
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  if (!/^\d{1,16}$/.test(t) || n < min || n > max) {
    throw usageError(range.message ?? `${flag} must be a whole number ${min}–${max}, not '${t.slice(0, 20)}'.`);
  }
  return n;
}

/** A TCP/UDP port; 0 (a free one) only when `min` is 0. */
export function portNumber(t: string, flag: string, min: 0 | 1 = 1): number {
  return wholeNumber(t, flag, { min, max: 65535, message: `${flag} must be a port number ${min}–65535, not '${t.slice(0, 20)}'.` });
}

export const flag = {
  boolean: (): BooleanFlag => ({ kind: 'boolean' }),
  string: (): SingleFlag<string> => ({ kind: 'single', parse: text }),
  value: <T>(parse: ValueParser<T>): SingleFlag<T> => ({ kind: 'single', parse }),
  number: (range: NumberRange = {}): SingleFlag<number> => ({ kind: 'single', parse: (t, f) => wholeNumber(t, f, range) }),
  port: (min: 0 | 1 = 1): SingleFlag<number> => ({ kind: 'single', parse: (t, f) => portNumber(t, f, min) }),
  optional: (fallback: string): OptionalValueFlag<string> => ({ kind: 'optional', parse: text, fallback }),
  repeatable,
  list,
};

export function parseArgs<T extends FlagTable>(args: readonly string[], table: T, options: ParseOptions): ParsedArgs<T> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) out[name] = spec.kind === 'boolean' ? false : spec.kind === 'single' || spec.kind === 'optional' ? undefined : [];
  const seen = new Set<string>();
  const positionals: string[] = [];
  const unknown = (arg: string) => usageError(`Unknown ${options.unknownNoun ?? 'option'} '${arg.slice(0, 60)}'.\n\n${options.usage}`);

  for (let i = 0; i < args.length; i++) {
    const given = args[i]!;
    const arg = options.aliases && Object.hasOwn(options.aliases, given) ? options.aliases[given]! : given;
    if (!arg.startsWith('-')) {
      if (!options.positionals) throw unknown(arg);
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 2 ? arg.slice(0, eq) : arg;
    const refusal = options.refused && Object.hasOwn(options.refused, name) ? options.refused[name] : undefined;
    if (refusal !== undefined) throw usageError(refusal);
    const key = name.slice(2);
    const spec = name.startsWith('--') && Object.hasOwn(table, key) ? table[key]! : undefined;
    // Name only: the value of a mistyped `--pin=…` or `--password=…` may be a secret.
    if (spec === undefined) throw unknown(eq > 2 ? `${name}=…` : arg);

    if (spec.kind === 'boolean') {
      if (eq > 2) throw usageError(`${name} takes no value.\n\n${options.usage}`);
      out[key] = true;
      continue;
    }
    let value: string | undefined;
    if (spec.kind === 'optional') {
      if (seen.has(key)) throw usageError(`${name} may be given once.`);
      seen.add(key);
      const next = args[i + 1];
      if (eq > 2) value = arg.slice(eq + 1);
      else if (next !== undefined && !next.startsWith('-')) value = args[++i];
      else value = spec.fallback;
      if (value === '') throw usageError(`${name} needs a value when given with '='.\n\n${options.usage}`);
      out[key] = spec.parse(value!, name);
      continue;
    }
    if (eq > 2) value = arg.slice(eq + 1);
    else {
      // A following flag is not a value: `--ca --json` forgot the file.
      value = args[i + 1];
      if (value !== undefined && !value.startsWith('--')) i++;
      else value = undefined;
    }
    if (value === undefined || value === '') throw usageError(`${name} needs a value.\n\n${options.usage}`);

    if (spec.kind === 'single') {
      if (seen.has(key)) throw usageError(`${name} may be given once.`);
      seen.add(key);
      out[key] = spec.parse(value, name);
    } else {
      const parts = spec.kind === 'list' ? value.split(',') : [value];
      (out[key] as unknown[]).push(...parts.map((p) => spec.parse(p, name)));
    }
  }
  return { flags: out as ParsedFlags<T>, positionals };
}

/** A copy without the keys whose value is undefined (so that callee defaults still apply). */
export function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
