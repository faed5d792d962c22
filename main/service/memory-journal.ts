import { TetherError, type SerializedTetherError } from '../../common/errors';
import { FINAL_JOB_STATES, type HistoryEntry, type JobState, type NetworkPath, type SignInSpec } from '../../common/service/contract';
import { STAGES } from '../../common/stages';
import type { AuditKind, DeviceRecordView, JobOwner, JobRecordView, JournalPort, JsonObject, StageRecordInput } from './journal-port';

type Stage = JobRecordView['stages'][number];

/**
 * The journal's shape kept in memory, for a demo world that must leave nothing on disk and for
 * tests of the service. It forgets everything when the process ends (no resume across restarts:
 * that needs main/journal).
 */
export class MemoryJournal implements JournalPort {
  private readonly devicesBySerial = new Map<string, DeviceRecordView>();
  private readonly jobRecords = new Map<string, { spec: SignInSpec; policy: JsonObject; state: JobState; error: SerializedTetherError | null; attempts: number; owner: JobOwner | null; stages: Map<string, Stage>; createdAt: number; updatedAt: number }>();
  private readonly trail: HistoryEntry[] = [];
  /** Writes made (the bench compares with the SQLite journal's). */
  writes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  seenDevice(d: { serial: string; modelId: string; firmware: string | null }): DeviceRecordView {
    this.writes++;
    const had = this.devicesBySerial.get(d.serial);
    const next = { serial: d.serial, modelId: d.modelId, firmware: d.firmware, signedInInternally: had?.signedInInternally ?? false, internalFacts: had?.internalFacts ?? null };
    this.devicesBySerial.set(d.serial, next);
    return next;
  }

  device(serial: string): DeviceRecordView | null {
    return this.devicesBySerial.get(serial) ?? null;
  }

  markSignedIn(m: { serial: string; network: NetworkPath; facts: JsonObject }): DeviceRecordView {
    const d = this.devicesBySerial.get(m.serial);
    if (!d) throw new TetherError('BAD_INPUT', `No device ${m.serial}.`);
    this.writes++;
    const next = m.network === 'internal' ? { ...d, signedInInternally: true, internalFacts: m.facts } : d;
    this.devicesBySerial.set(m.serial, next);
    return next;
  }

  createJob(j: { jobId: string; spec: SignInSpec; policy: JsonObject }): void {
    if (this.jobRecords.has(j.jobId)) throw new TetherError('BAD_INPUT', `Job ${j.jobId} exists.`);
    this.writes++;
    const at = this.now();
    this.jobRecords.set(j.jobId, { spec: j.spec, policy: j.policy, state: 'queued', error: null, attempts: 0, owner: null, stages: new Map(), createdAt: at, updatedAt: at });
  }

  recordStage(jobId: string, r: StageRecordInput): void {
    const j = this.get(jobId);
    this.writes++;
    j.stages.set(r.stage, { ...r, reason: r.reason ?? null, error: r.error ?? null });
    j.updatedAt = this.now();
  }

  setJobState(jobId: string, state: JobState, error?: SerializedTetherError | null): void {
    const j = this.get(jobId);
    this.writes++;
    j.state = state;
    j.error = error ?? null;
    // As in Journal: a finished job has no owner, so nothing is left claimed after it.
    if (FINAL_JOB_STATES.includes(state)) j.owner = null;
    j.updatedAt = this.now();
  }

  /** Journal.claim's rules in one process: a finished job is nobody's, and another owner keeps its job. */
  claim(jobId: string, owner: JobOwner): boolean {
    const j = this.get(jobId);
    if (FINAL_JOB_STATES.includes(j.state)) return false;
    if (j.owner && (j.owner.pid !== owner.pid || j.owner.token !== owner.token)) return false;
    if (!j.owner) {
      this.writes++;
      j.owner = owner;
      j.attempts++;
    }
    return true;
  }

  release(jobId: string, owner: JobOwner): boolean {
    const j = this.get(jobId);
    if (!j.owner || j.owner.token !== owner.token) return false;
    this.writes++;
    j.owner = null;
    return true;
  }

  job(jobId: string): JobRecordView | null {
    const j = this.jobRecords.get(jobId);
    if (!j) return null;
    const stages = STAGES.flatMap((s) => (j.stages.has(s.id) ? [j.stages.get(s.id)!] : []));
    let facts: JsonObject = {};
    let lastCompleted: JobRecordView['lastCompleted'] = null;
    let unbroken = true;
    for (const s of STAGES) {
      const r = j.stages.get(s.id);
      if (r && r.status !== 'failed') {
        facts = { ...facts, ...r.facts };
        if (unbroken) lastCompleted = s.id;
      } else unbroken = false;
    }
    return { jobId, spec: j.spec, policy: j.policy, state: j.state, error: j.error, attempts: j.attempts, stages, facts, lastCompleted, createdAt: j.createdAt, updatedAt: j.updatedAt };
  }

  jobs(filter: { unfinishedOnly?: boolean; serial?: string } = {}): JobRecordView[] {
    return [...this.jobRecords.keys()]
      .map((id) => this.job(id)!)
      .filter((j) => (!filter.unfinishedOnly || !FINAL_JOB_STATES.includes(j.state)) && (filter.serial === undefined || j.spec.serial === filter.serial));
  }

  audit(a: { kind: AuditKind; serial?: string | null; jobId?: string | null; summary: string }): void {
    this.writes++;
    this.trail.push({ at: this.now(), kind: a.kind, serial: a.serial ?? null, jobId: a.jobId ?? null, summary: a.summary });
  }

  history(serial: string): HistoryEntry[] {
    return this.trail.filter((e) => e.serial === serial);
  }

  /** All of `fn`'s changes or none: on a throw the maps and the trail go back to how they were. */
  atomically<T>(fn: () => T): T {
    const before = { devices: structuredClone(this.devicesBySerial), jobs: structuredClone(this.jobRecords), trail: this.trail.length, writes: this.writes };
    try {
      return fn();
    } catch (err) {
      this.devicesBySerial.clear();
      for (const [k, v] of before.devices) this.devicesBySerial.set(k, v);
      this.jobRecords.clear();
      for (const [k, v] of before.jobs) this.jobRecords.set(k, v);
      this.trail.length = before.trail;
      this.writes = before.writes;
      throw err;
    }
  }

  private get(jobId: string) {
    const j = this.jobRecords.get(jobId);
    if (!j) throw new TetherError('JOB_UNKNOWN', `There is no job ${jobId}.`);
    return j;
  }
}
