import type { SerializedTetherError } from '../../common/errors';
import type { HistoryEntry, JobState, NetworkPath, SignInSpec } from '../../common/service/contract';
import type { StageId } from '../../common/stages';
import type { JobOwner, JsonObject, StageRecordInput } from '../journal/types';

/**
 * What the service needs of the journal (main/journal's Journal has exactly these methods): the
 * service is written against this shape so tests and demo worlds can pass an in-memory one.
 */

export type { JobOwner, JsonObject, JsonValue, StageRecordInput } from '../journal/types';

export interface DeviceRecordView {
  readonly serial: string;
  readonly modelId: string;
  readonly firmware: string | null;
  readonly signedInInternally: boolean;
  readonly internalFacts: JsonObject | null;
}

export interface JobRecordView {
  readonly jobId: string;
  readonly spec: SignInSpec;
  readonly policy: JsonObject;
  readonly state: JobState;
  readonly error: SerializedTetherError | null;
  readonly attempts: number;
  readonly stages: readonly (StageRecordInput & { readonly reason: string | null; readonly error: SerializedTetherError | null })[];
  /** Facts of every done or skipped stage merged in stage order. */
  readonly facts: JsonObject;
  readonly lastCompleted: StageId | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type AuditKind = 'sign-in' | 'sign-in-failed' | 'sign-in-cancelled' | 'firmware-change';

export interface JournalPort {
  seenDevice(d: { readonly serial: string; readonly modelId: string; readonly firmware: string | null }): unknown;
  device(serial: string): DeviceRecordView | null;
  markSignedIn(m: { readonly serial: string; readonly network: NetworkPath; readonly facts: JsonObject }): unknown;
  createJob(j: { readonly jobId: string; readonly spec: SignInSpec; readonly policy: JsonObject }): unknown;
  recordStage(jobId: string, r: StageRecordInput): void;
  setJobState(jobId: string, state: JobState, error?: SerializedTetherError | null): void;
  claim(jobId: string, owner: JobOwner): boolean;
  release(jobId: string, owner: JobOwner): boolean;
  job(jobId: string): JobRecordView | null;
  jobs(filter?: { readonly unfinishedOnly?: boolean; readonly serial?: string }): JobRecordView[];
  audit(a: { readonly kind: AuditKind; readonly serial?: string | null; readonly jobId?: string | null; readonly summary: string; readonly detail?: JsonObject | null }): unknown;
  history(serial: string): HistoryEntry[];
  /** Runs the synchronous `fn`'s calls as one transaction: all kept or none. */
  atomically<T>(fn: () => T): T;
}
