import type { SerializedTetherError } from '../../common/errors';
import type { JobState, NetworkPath, SignInSpec } from '../../common/service/contract';
import type { StageId } from '../../common/stages';

/** Plain JSON, as the journal stores it (facts, policy, detail). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

/**
 * Who runs a job: a process id plus a token drawn once per process start, so a claim left by a
 * process that died can be told from one held by a live process (and a reused pid by its token).
 */
export interface JobOwner {
  readonly pid: number;
  readonly token: string;
}

export interface DeviceRecord {
  readonly serial: string;
  readonly modelId: string;
  readonly firmware: string | null;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** True once the phone has signed in from inside the corporate network (external sign-in needs it). */
  readonly signedInInternally: boolean;
  readonly internalSignInAt: number | null;
  /**
   * The public facts from the last internal sign-in that an external sign-in needs (the external
   * Device Update URL, external registrar and edge names, the pool chain…); null before one.
   */
  readonly internalFacts: JsonObject | null;
  readonly lastSignInAt: number | null;
  readonly lastNetwork: NetworkPath | null;
}

/** What a stage ended with. `started`/`progress` are live states only; the journal keeps outcomes. */
export type StageOutcomeStatus = 'done' | 'skipped' | 'failed';
export const STAGE_OUTCOMES: readonly StageOutcomeStatus[] = ['done', 'skipped', 'failed'];

export interface StageRecordInput {
  readonly stage: StageId;
  readonly status: StageOutcomeStatus;
  /** What the stage learnt, plain JSON with no secret (the next stages and a resumed job read it). */
  readonly facts: JsonObject;
  /** One line for people. */
  readonly summary: string;
  /** Why a stage was skipped, or why it failed, in plain words. */
  readonly reason?: string | null;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly error?: SerializedTetherError | null;
}

export interface StageRecord extends StageRecordInput {
  readonly reason: string | null;
  readonly error: SerializedTetherError | null;
  /** The job's attempt (run) that wrote this record. */
  readonly attempt: number;
}

export interface JobRecord {
  readonly jobId: string;
  readonly spec: SignInSpec;
  readonly policy: JsonObject;
  readonly state: JobState;
  readonly error: SerializedTetherError | null;
  /** How many times a process has claimed the job to run it. */
  readonly attempts: number;
  /** The process running it now, or the one that died holding it. */
  readonly owner: JobOwner | null;
  /** The latest outcome of each stage recorded so far, in stage order. */
  readonly stages: readonly StageRecord[];
  /** Facts of every done or skipped stage merged in stage order (a later stage's key wins). */
  readonly facts: JsonObject;
  /** The last stage, in stage order, with every stage up to it done or skipped: where a resume starts after. */
  readonly lastCompleted: StageId | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const AUDIT_KINDS = [
  'sign-in',
  'sign-in-failed',
  'sign-in-cancelled',
  'wipe',
  're-provision',
  'firmware-change',
  'bundle-import',
  'kiosk-start',
  'kiosk-stop',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditInput {
  readonly kind: AuditKind;
  readonly serial?: string | null;
  readonly jobId?: string | null;
  /** One line for people. */
  readonly summary: string;
  readonly detail?: JsonObject | null;
}

export interface AuditRecord {
  readonly id: number;
  readonly at: number;
  readonly kind: AuditKind;
  readonly serial: string | null;
  readonly jobId: string | null;
  readonly summary: string;
  readonly detail: JsonObject | null;
}
