import { TetherError, type SerializedTetherError } from '../../common/errors';
import type { HistoryEntry, JobState, NetworkPath, SignInSpec } from '../../common/service/contract';
import { STAGES, type StageId } from '../../common/stages';
import type { AuditKind, AuditRecord, DeviceRecord, JobRecord, JsonObject, StageOutcomeStatus, StageRecord } from './types';

/** Turns the journal's rows into records. A row that does not parse is a damaged journal, said so. */

type Row = Record<string, unknown>;

function json<T>(text: unknown, what: string): T {
  try {
    return JSON.parse(String(text)) as T;
  } catch (cause) {
    throw new TetherError('JOURNAL_UNREADABLE', `The journal's ${what} is not valid JSON.`, { detail: { record: what }, cause });
  }
}
const jsonOrNull = <T>(text: unknown, what: string): T | null => (text === null || text === undefined ? null : json<T>(text, what));
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function deviceOf(r: Row): DeviceRecord {
  const internalAt = numOrNull(r.internal_sign_in_at);
  return {
    serial: String(r.serial),
    modelId: String(r.model_id),
    firmware: strOrNull(r.firmware),
    firstSeen: num(r.first_seen),
    lastSeen: num(r.last_seen),
    signedInInternally: internalAt !== null,
    internalSignInAt: internalAt,
    internalFacts: jsonOrNull<JsonObject>(r.internal_facts, `device ${String(r.serial)} facts`),
    lastSignInAt: numOrNull(r.last_sign_in_at),
    lastNetwork: strOrNull(r.last_network) as NetworkPath | null,
  };
}

export function stageOf(r: Row): StageRecord {
  const where = `stage ${String(r.stage)} of job ${String(r.job_id)}`;
  return {
    stage: String(r.stage) as StageId,
    status: String(r.status) as StageOutcomeStatus,
    facts: json<JsonObject>(r.facts, where),
    summary: String(r.summary),
    reason: strOrNull(r.reason),
    startedAt: num(r.started_at),
    endedAt: num(r.ended_at),
    error: jsonOrNull<SerializedTetherError>(r.error, where),
    attempt: num(r.attempt),
  };
}

const ORDER = new Map<string, number>(STAGES.map((s) => [s.id, s.n]));

export function jobOf(r: Row, stageRows: readonly Row[]): JobRecord {
  const jobId = String(r.job_id);
  const stages = stageRows.map(stageOf).sort((a, b) => ORDER.get(a.stage)! - ORDER.get(b.stage)!);
  const byStage = new Map(stages.map((s) => [s.stage, s]));
  let lastCompleted: StageId | null = null;
  const facts: Record<string, unknown> = {};
  for (const { id } of STAGES) {
    const s = byStage.get(id);
    if (s === undefined || s.status === 'failed') break;
    lastCompleted = id;
    Object.assign(facts, s.facts);
  }
  const pid = numOrNull(r.owner_pid);
  return {
    jobId,
    spec: json<SignInSpec>(r.spec, `job ${jobId} spec`),
    policy: json<JsonObject>(r.policy, `job ${jobId} policy`),
    state: String(r.state) as JobState,
    error: jsonOrNull<SerializedTetherError>(r.error, `job ${jobId} error`),
    attempts: num(r.attempts),
    owner: pid === null ? null : { pid, token: String(r.owner_token) },
    stages,
    facts: facts as JsonObject,
    lastCompleted,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function auditOf(r: Row): AuditRecord {
  return {
    id: num(r.id),
    at: num(r.at),
    kind: String(r.kind) as AuditKind,
    serial: strOrNull(r.serial),
    jobId: strOrNull(r.job_id),
    summary: String(r.summary),
    detail: jsonOrNull<JsonObject>(r.detail, `audit entry ${String(r.id)}`),
  };
}

export function historyOf(a: AuditRecord): HistoryEntry {
  return { at: a.at, kind: a.kind, serial: a.serial, jobId: a.jobId, summary: a.summary };
}
