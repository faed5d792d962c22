import { isStageId, type StageId } from '../stages';
import { entryFor, isErrorCode, type ErrorCode } from './catalogue';

/**
 * Facts that help diagnose an error. Values are plain scalars so an error can cross IPC and be
 * written to the journal. Never put a secret (password, PIN, key, ticket) here.
 */
export type ErrorDetail = Readonly<Record<string, string | number | boolean | null>>;

export interface SerializedTetherError {
  readonly type: 'TetherError';
  readonly code: ErrorCode;
  readonly stage: StageId | null;
  readonly message: string;
  readonly detail: ErrorDetail;
}

export interface TetherErrorOptions {
  /** Overrides the catalogue's stage, e.g. a USB fault during the firmware push (stage 4). */
  readonly stage?: StageId | null;
  readonly detail?: ErrorDetail;
  readonly cause?: unknown;
}

/**
 * The one error type Tether raises on purpose. It carries a code from the catalogue, the bootstrap
 * stage it belongs to, and maps to a plain-language fix; it survives a process boundary through
 * toJSON/fromJSON (the idea of Etcher's lib/shared/errors.ts).
 */
export class TetherError extends Error {
  override readonly name = 'TetherError';
  readonly code: ErrorCode;
  readonly stage: StageId | null;
  readonly detail: ErrorDetail;

  constructor(code: ErrorCode, message?: string, options: TetherErrorOptions = {}) {
    const entry = entryFor(code);
    super(message ?? entry.summary, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.stage = options.stage === undefined ? entry.stage : options.stage;
    this.detail = Object.freeze({ ...(options.detail ?? {}) });
  }

  /** The plain-language fix from the catalogue. */
  get fix(): string {
    return entryFor(this.code).fix;
  }

  /** What the desk user can do themselves, in plain words. */
  get userAction(): string {
    return entryFor(this.code).userAction;
  }

  /** The admin cmdlet or command that checks this, if any. */
  get cmdlet(): string | undefined {
    return entryFor(this.code).cmdlet;
  }

  /** A copy of this error attributed to another stage (keeps code, message and detail). */
  withStage(stage: StageId | null): TetherError {
    return new TetherError(this.code, this.message, { stage, detail: this.detail, cause: this.cause });
  }

  toJSON(): SerializedTetherError {
    return { type: 'TetherError', code: this.code, stage: this.stage, message: this.message, detail: this.detail };
  }

  /** Rebuilds an error that crossed a boundary; anything malformed becomes INTERNAL, never a throw. */
  static fromJSON(value: unknown): TetherError {
    if (typeof value !== 'object' || value === null) return new TetherError('INTERNAL', 'Malformed error record.');
    const v = value as Record<string, unknown>;
    if (v.type !== 'TetherError' || !isErrorCode(v.code)) {
      return new TetherError('INTERNAL', 'Malformed error record.');
    }
    const stage = v.stage === null || isStageId(v.stage) ? v.stage : undefined;
    const detail: Record<string, string | number | boolean | null> = {};
    if (typeof v.detail === 'object' && v.detail !== null) {
      for (const [k, d] of Object.entries(v.detail)) {
        if (d === null || typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean') detail[k] = d;
      }
    }
    const message = typeof v.message === 'string' ? v.message : undefined;
    return new TetherError(v.code, message, { stage, detail });
  }

  static is(value: unknown, code?: ErrorCode): value is TetherError {
    return value instanceof TetherError && (code === undefined || value.code === code);
  }
}

/** Wraps anything thrown into a TetherError, keeping typed errors as they are. */
export function toTetherError(err: unknown, fallback: ErrorCode = 'INTERNAL'): TetherError {
  if (err instanceof TetherError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TetherError(fallback, message, { cause: err });
}
