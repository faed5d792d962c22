import type { DatabaseSync } from 'node:sqlite';
import { TetherError } from '../../common/errors';

/**
 * The journal's schema as numbered migrations. PRAGMA user_version holds the number of the last one
 * applied; each runs in its own transaction together with the version bump, so a crash leaves the
 * file at one version or the next, never between. Never edit a migration that has shipped: add one.
 * test/main/journal/schema.test.ts upgrades a journal from every earlier version.
 */
export interface Migration {
  readonly version: number;
  readonly what: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'devices, jobs with their stage records, audit trail',
    sql: `
      CREATE TABLE devices (
        serial                TEXT PRIMARY KEY,
        model_id              TEXT NOT NULL,
        firmware              TEXT,
        first_seen            INTEGER NOT NULL,
        last_seen             INTEGER NOT NULL,
        internal_sign_in_at   INTEGER,
        internal_facts        TEXT,
        last_sign_in_at       INTEGER,
        last_network          TEXT CHECK (last_network IN ('internal', 'external'))
      ) STRICT;

      CREATE TABLE jobs (
        job_id      TEXT PRIMARY KEY,
        serial      TEXT NOT NULL,
        spec        TEXT NOT NULL,
        policy      TEXT NOT NULL,
        state       TEXT NOT NULL,
        error       TEXT,
        attempts    INTEGER NOT NULL DEFAULT 0,
        owner_pid   INTEGER,
        owner_token TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX jobs_by_serial ON jobs (serial, created_at);
      CREATE INDEX jobs_by_state ON jobs (state);

      CREATE TABLE stages (
        job_id      TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
        stage       TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('done', 'skipped', 'failed')),
        facts       TEXT NOT NULL,
        summary     TEXT NOT NULL,
        reason      TEXT,
        started_at  INTEGER NOT NULL,
        ended_at    INTEGER NOT NULL,
        error       TEXT,
        attempt     INTEGER NOT NULL,
        PRIMARY KEY (job_id, stage)
      ) STRICT;

      CREATE TABLE audit (
        id       INTEGER PRIMARY KEY,
        at       INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        serial   TEXT,
        job_id   TEXT,
        summary  TEXT NOT NULL,
        detail   TEXT
      ) STRICT;
      CREATE INDEX audit_by_serial ON audit (serial, at);
    `,
  },
  {
    version: 2,
    what: 'the kiosk queue: phones waiting to be signed in at a kiosk, in arrival order',
    sql: `
      CREATE TABLE kiosk_queue (
        id           INTEGER PRIMARY KEY,
        serial       TEXT NOT NULL,
        enqueued_at  INTEGER NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('waiting', 'running', 'done', 'failed', 'removed')),
        job_id       TEXT REFERENCES jobs (job_id) ON DELETE SET NULL,
        updated_at   INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX kiosk_queue_one_open_per_serial ON kiosk_queue (serial) WHERE state IN ('waiting', 'running');
      CREATE INDEX kiosk_queue_by_state ON kiosk_queue (state, enqueued_at, id);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function userVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}

function tooNew(version: number): TetherError {
  return new TetherError('JOURNAL_TOO_NEW', `The journal is at schema version ${version}; this Tether knows up to ${SCHEMA_VERSION}.`, {
    detail: { version, known: SCHEMA_VERSION },
  });
}

/** Refuses a journal from a newer Tether before anything writes to it (even the switch to WAL). */
export function assertKnownVersion(db: DatabaseSync): void {
  const at = userVersion(db);
  if (at > SCHEMA_VERSION) throw tooNew(at);
}

/**
 * Brings the journal up to `target` (default: the newest), one migration per transaction. The
 * version is read inside each write transaction, so two processes opening a new journal at once
 * apply each migration once. A journal from a newer Tether is refused rather than guessed at.
 */
export function migrate(db: DatabaseSync, target = SCHEMA_VERSION, migrations: readonly Migration[] = MIGRATIONS): number {
  for (;;) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const at = userVersion(db);
      if (at > SCHEMA_VERSION) throw tooNew(at);
      const next = migrations.find((m) => m.version === at + 1);
      if (at >= target || next === undefined) {
        db.exec('COMMIT');
        return at;
      }
      db.exec(next.sql);
      db.exec(`PRAGMA user_version = ${next.version}`);
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }
}
