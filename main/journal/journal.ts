import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { assertPrivatePath, ensurePrivateFolder, tetherDataFolder } from '../../common/data-folder';
import { TetherError, type SerializedTetherError } from '../../common/errors';
import { FINAL_JOB_STATES, JOB_ID, JOB_STATES, SERIAL, type HistoryEntry, type JobState, type NetworkPath, type SignInSpec } from '../../common/service/contract';
import { isStageId } from '../../common/stages';
import { journalFailure } from './errors';
import { pidAlive } from './owner';
import { auditOf, deviceOf, historyOf, jobOf } from './rows';
import { assertKnownVersion, migrate } from './schema';
import { secretFreeJson } from './secrets';
import { loadSqlite, type SqliteModule } from './sqlite';
import {
  AUDIT_KINDS,
  STAGE_OUTCOMES,
  type AuditInput,
  type AuditRecord,
  type DeviceRecord,
  type JobOwner,
  type JobRecord,
  type JsonObject,
  type StageRecordInput,
} from './types';

export const JOURNAL_FILE = 'journal.sqlite';

export interface JournalOptions {
  /** The data folder (CLI `--data DIR`); default the platform's per-user folder (tetherDataFolder). */
  readonly dir?: string;
  /** Milliseconds since the epoch; a test passes a fake clock. */
  readonly now?: () => number;
  /** Whether a pid is a live process (claims held by a dead one are taken over). */
  readonly isAlive?: (pid: number) => boolean;
  /**
   * SQLite's synchronous setting in WAL mode. NORMAL (default): a commit survives the process being
   * killed; a power cut may lose the last commits but never corrupts. FULL: fsync on every commit.
   * See docs/architecture.md, "The journal's engine".
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** How long to wait for another process's write lock before JOURNAL_BUSY. */
  readonly busyTimeoutMs?: number;
  /** Finds node:sqlite (a test passes one that finds nothing). */
  readonly sqlite?: () => SqliteModule | undefined;
}

function badInput(field: string, want: string): TetherError {
  return new TetherError('BAD_INPUT', `Journal: ${field} must be ${want}.`, { detail: { field } });
}
function checkPattern(value: unknown, re: RegExp, field: string, want: string): void {
  if (typeof value !== 'string' || !re.test(value)) throw badInput(field, want);
}
function checkText(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0) throw badInput(field, 'non-empty text');
}
function checkTime(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badInput(field, 'a time in milliseconds');
}
const notFound = (what: 'job' | 'device', id: string) =>
  new TetherError('JOURNAL_NOT_FOUND', `The journal has no ${what} ${id}.`, { detail: { what, id } });

/**
 * Tether's journal: one SQLite file (WAL mode) in the user's data folder that remembers phones,
 * sign-in jobs stage by stage, and an audit trail, so a job survives the process and resumes from
 * its last completed stage. Synchronous calls (node:sqlite's DatabaseSync): each is one short
 * transaction. No secret is ever written (secretFreeJson). Specified in docs/journal.md.
 */
export class Journal {
  readonly path: string;
  private readonly statements = new Map<string, StatementSync>();
  private closed = false;

  private constructor(
    private readonly db: DatabaseSync,
    path: string,
    private readonly now: () => number,
    private readonly isAlive: (pid: number) => boolean,
  ) {
    this.path = path;
  }

  static async open(options: JournalOptions = {}): Promise<Journal> {
    const sqlite = loadSqlite(options.sqlite);
    const dir = options.dir ?? tetherDataFolder();
    await ensurePrivateFolder(dir);
    const path = join(dir, JOURNAL_FILE);
    // Created by us, readable by us only, before SQLite makes it with the umask's mode; SQLite gives
    // the -wal and -shm files the same mode.
    closeSync(openSync(path, 'a', 0o600));
    await assertPrivatePath(path, 'file');
    let db: DatabaseSync | undefined;
    try {
      db = new sqlite.DatabaseSync(path);
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      assertKnownVersion(db);
      const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string } | undefined;
      if (mode?.journal_mode !== 'wal') throw new TetherError('JOURNAL_UNREADABLE', `The journal at ${path} cannot use WAL mode (got ${String(mode?.journal_mode)}).`, { detail: { path } });
      db.exec(`PRAGMA synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      db.exec('PRAGMA foreign_keys = ON');
      migrate(db);
    } catch (err) {
      db?.close();
      throw journalFailure(err, path);
    }
    return new Journal(db, path, options.now ?? Date.now, options.isAlive ?? pidAlive);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }

  /** PRAGMA integrity_check: ['ok'] for a sound file, else SQLite's findings. */
  integrityCheck(): string[] {
    return this.run(() => (this.db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check));
  }

  // ---------------------------------------------------------------------------------------------
  // Devices

  /** Records that a phone was seen now: first seen stays, last seen, model and firmware are updated. */
  seenDevice(d: { readonly serial: string; readonly modelId: string; readonly firmware: string | null }): DeviceRecord {
    checkPattern(d.serial, SERIAL, 'serial', 'a phone serial');
    checkText(d.modelId, 'modelId');
    const at = this.now();
    return this.tx(() => {
      this.sql(
        `INSERT INTO devices (serial, model_id, firmware, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (serial) DO UPDATE SET model_id = excluded.model_id,
           firmware = coalesce(excluded.firmware, devices.firmware), last_seen = excluded.last_seen`,
      ).run(d.serial, d.modelId, d.firmware ?? null, at, at);
      return this.device(d.serial)!;
    });
  }

  device(serial: string): DeviceRecord | null {
    return this.run(() => {
      const row = this.sql('SELECT * FROM devices WHERE serial = ?').get(serial);
      return row === undefined ? null : deviceOf(row);
    });
  }

  devices(): DeviceRecord[] {
    return this.run(() => this.sql('SELECT * FROM devices ORDER BY serial').all().map(deviceOf));
  }

  /**
   * Records a completed sign-in. An internal one also keeps `facts`: the public facts an external
   * sign-in will need (external Device Update URL, external registrar and edge names, the chain).
   */
  markSignedIn(m: { readonly serial: string; readonly network: NetworkPath; readonly facts: JsonObject }): DeviceRecord {
    if (m.network !== 'internal' && m.network !== 'external') throw badInput('network', 'internal or external');
    const facts = secretFreeJson(`the sign-in facts of ${m.serial}`, m.facts);
    const at = this.now();
    return this.tx(() => {
      const sql =
        m.network === 'internal'
          ? 'UPDATE devices SET last_sign_in_at = ?, last_network = ?, internal_sign_in_at = ?, internal_facts = ? WHERE serial = ?'
          : 'UPDATE devices SET last_sign_in_at = ?, last_network = ? WHERE serial = ?';
      const args: SQLInputValue[] = m.network === 'internal' ? [at, m.network, at, facts, m.serial] : [at, m.network, m.serial];
      if (this.sql(sql).run(...args).changes === 0) throw notFound('device', m.serial);
      return this.device(m.serial)!;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Jobs

  /** A new job in state `queued`. The spec and policy are plain JSON with no secret. */
  createJob(j: { readonly jobId: string; readonly spec: SignInSpec; readonly policy: JsonObject }): JobRecord {
    checkPattern(j.jobId, JOB_ID, 'jobId', 'a job id');
    checkPattern(j.spec?.serial, SERIAL, 'spec.serial', 'a phone serial');
    const spec = secretFreeJson(`the spec of job ${j.jobId}`, j.spec);
    const policy = secretFreeJson(`the policy of job ${j.jobId}`, j.policy);
    const at = this.now();
    return this.tx(() => {
      if (this.sql('SELECT 1 FROM jobs WHERE job_id = ?').get(j.jobId) !== undefined) {
        throw new TetherError('JOURNAL_CONFLICT', `The journal already has job ${j.jobId}.`, { detail: { jobId: j.jobId } });
      }
      this.sql("INSERT INTO jobs (job_id, serial, spec, policy, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)").run(
        j.jobId,
        j.spec.serial,
        spec,
        policy,
        at,
        at,
      );
      return this.job(j.jobId)!;
    });
  }

  /**
   * Records a stage's outcome in one transaction: a crash leaves the whole record or none. A later
   * record of the same stage (a retry) replaces the earlier one.
   */
  recordStage(jobId: string, r: StageRecordInput): void {
    if (!isStageId(r.stage)) throw badInput('stage', 'a stage id');
    if (!STAGE_OUTCOMES.includes(r.status)) throw badInput('status', STAGE_OUTCOMES.join(', '));
    checkText(r.summary, 'summary');
    checkTime(r.startedAt, 'startedAt');
    checkTime(r.endedAt, 'endedAt');
    const what = `stage ${r.stage} of job ${jobId}`;
    const facts = secretFreeJson(what, r.facts);
    const error = r.error == null ? null : secretFreeJson(what, r.error);
    this.tx(() => {
      const job = this.sql('SELECT attempts FROM jobs WHERE job_id = ?').get(jobId);
      if (job === undefined) throw notFound('job', jobId);
      this.sql(
        `INSERT INTO stages (job_id, stage, status, facts, summary, reason, started_at, ended_at, error, attempt)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (job_id, stage) DO UPDATE SET status = excluded.status, facts = excluded.facts,
           summary = excluded.summary, reason = excluded.reason, started_at = excluded.started_at,
           ended_at = excluded.ended_at, error = excluded.error, attempt = excluded.attempt`,
      ).run(jobId, r.stage, r.status, facts, r.summary, r.reason ?? null, r.startedAt, r.endedAt, error, Number(job.attempts));
      this.sql('UPDATE jobs SET updated_at = ? WHERE job_id = ?').run(this.now(), jobId);
    });
  }

  /**
   * Moves a job to `state`; `error` is kept with it (a state without one clears the last error).
   * A final state (signed-in, failed, cancelled) also ends the claim in the same write, so a process
   * killed right after finishing a job leaves no owner behind.
   */
  setJobState(jobId: string, state: JobState, error?: SerializedTetherError | null): void {
    if (!JOB_STATES.includes(state)) throw badInput('state', JOB_STATES.join(', '));
    const errorJson = error == null ? null : secretFreeJson(`the error of job ${jobId}`, error);
    const sql = FINAL_JOB_STATES.includes(state)
      ? 'UPDATE jobs SET state = ?, error = ?, updated_at = ?, owner_pid = NULL, owner_token = NULL WHERE job_id = ?'
      : 'UPDATE jobs SET state = ?, error = ?, updated_at = ? WHERE job_id = ?';
    this.run(() => {
      if (this.sql(sql).run(state, errorJson, this.now(), jobId).changes === 0) throw notFound('job', jobId);
    });
  }

  /**
   * Takes a job to run it, so no two processes run the same job. True when it is now `owner`'s:
   * it was free, already `owner`'s, or held by a process that is no longer alive. Each new owner
   * counts one more attempt. A finished job (signed-in, failed, cancelled) is never claimed: another
   * process may have finished it between a caller's listing and its claim. To retry a failed or
   * cancelled job, set it back to `queued` first.
   */
  claim(jobId: string, owner: JobOwner): boolean {
    return this.tx(() => {
      const row = this.sql('SELECT owner_pid, owner_token, state FROM jobs WHERE job_id = ?').get(jobId);
      if (row === undefined) throw notFound('job', jobId);
      if (FINAL_JOB_STATES.includes(row.state as JobState)) return false;
      const pid = row.owner_pid === null ? null : Number(row.owner_pid);
      const mine = pid === owner.pid && row.owner_token === owner.token;
      if (mine) return true;
      if (pid !== null && this.isAlive(pid)) return false;
      this.sql('UPDATE jobs SET owner_pid = ?, owner_token = ?, attempts = attempts + 1, updated_at = ? WHERE job_id = ?').run(owner.pid, owner.token, this.now(), jobId);
      return true;
    });
  }

  /** Gives a job back; only its owner can. True when it was `owner`'s. */
  release(jobId: string, owner: JobOwner): boolean {
    return this.run(
      () =>
        this.sql('UPDATE jobs SET owner_pid = NULL, owner_token = NULL, updated_at = ? WHERE job_id = ? AND owner_pid = ? AND owner_token = ?').run(
          this.now(),
          jobId,
          owner.pid,
          owner.token,
        ).changes > 0,
    );
  }

  job(jobId: string): JobRecord | null {
    return this.run(() => {
      const row = this.sql('SELECT * FROM jobs WHERE job_id = ?').get(jobId);
      return row === undefined ? null : jobOf(row, this.sql('SELECT * FROM stages WHERE job_id = ?').all(jobId));
    });
  }

  /** Jobs, oldest first; `unfinishedOnly` leaves out signed-in, failed and cancelled ones. */
  jobs(filter: { readonly unfinishedOnly?: boolean; readonly serial?: string } = {}): JobRecord[] {
    return this.run(() => {
      const where: string[] = [];
      const args: SQLInputValue[] = [];
      if (filter.unfinishedOnly === true) where.push("state NOT IN ('signed-in', 'failed', 'cancelled')");
      if (filter.serial !== undefined) {
        where.push('serial = ?');
        args.push(filter.serial);
      }
      const rows = this.sql(`SELECT * FROM jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, job_id`).all(...args);
      return rows.map((row) => jobOf(row, this.sql('SELECT * FROM stages WHERE job_id = ?').all(String(row.job_id))));
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Audit

  audit(a: AuditInput): AuditRecord {
    if (!AUDIT_KINDS.includes(a.kind)) throw badInput('kind', AUDIT_KINDS.join(', '));
    checkText(a.summary, 'summary');
    const detail = a.detail == null ? null : secretFreeJson(`the ${a.kind} audit entry`, a.detail);
    const at = this.now();
    return this.run(() => {
      const { lastInsertRowid } = this.sql('INSERT INTO audit (at, kind, serial, job_id, summary, detail) VALUES (?, ?, ?, ?, ?, ?)').run(
        at,
        a.kind,
        a.serial ?? null,
        a.jobId ?? null,
        a.summary,
        detail,
      );
      return auditOf(this.sql('SELECT * FROM audit WHERE id = ?').get(lastInsertRowid)!);
    });
  }

  /** The audit trail with details, oldest first. */
  auditTrail(filter: { readonly serial?: string; readonly jobId?: string } = {}): AuditRecord[] {
    return this.run(() =>
      this.sql('SELECT * FROM audit WHERE (?1 IS NULL OR serial = ?1) AND (?2 IS NULL OR job_id = ?2) ORDER BY at, id')
        .all(filter.serial ?? null, filter.jobId ?? null)
        .map(auditOf),
    );
  }

  /** A phone's history for people, oldest first. */
  history(serial: string): HistoryEntry[] {
    return this.auditTrail({ serial }).map(historyOf);
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Runs several journal calls as one transaction: all of them are kept, or (on a throw or a crash)
   * none. For what must not be half-done, e.g. a finished job: its final state, the phone's
   * sign-in mark and the audit entry. `fn` must be synchronous (an await would leave the write lock
   * held while other work runs).
   */
  atomically<T>(fn: () => T): T {
    return this.tx(() => {
      const out = fn();
      if (out instanceof Promise) throw new TetherError('INTERNAL', 'Journal.atomically takes a synchronous function.');
      return out;
    });
  }

  // ---------------------------------------------------------------------------------------------

  private sql(text: string): StatementSync {
    if (this.closed) throw new TetherError('INTERNAL', 'Journal: used after close().');
    let s = this.statements.get(text);
    if (s === undefined) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw journalFailure(err, this.path);
    }
  }

  /**
   * BEGIN IMMEDIATE takes the write lock up front, so a read-then-write never meets a busy upgrade.
   * Inside `atomically` the outer transaction is the one that commits or rolls back.
   */
  private tx<T>(fn: () => T): T {
    return this.run(() => {
      if (this.db.isTransaction) return fn();
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = fn();
        this.db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }
}
