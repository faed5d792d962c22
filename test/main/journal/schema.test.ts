import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { Journal, JOURNAL_FILE, MIGRATIONS, SCHEMA_VERSION } from '../../../main/journal';
import { migrate, userVersion } from '../../../main/journal/schema';

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tether-schema-'));
  dir = join(root, 'data');
  await mkdir(dir, { mode: 0o700 });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Rows written the way each schema version stored them, to check an upgrade keeps them. */
const SEEDS: Record<number, (db: DatabaseSync) => void> = {
  0: () => {},
  1: (db) => {
    db.exec(`INSERT INTO devices (serial, model_id, firmware, first_seen, last_seen, internal_sign_in_at, internal_facts, last_sign_in_at, last_network)
             VALUES ('CX600-1', 'CX600', '4100', 1, 2, 2, '{"edge":"sip.contoso.com"}', 2, 'internal')`);
    db.exec(`INSERT INTO jobs (job_id, serial, spec, policy, state, attempts, created_at, updated_at)
             VALUES ('job-00000001', 'CX600-1', '{"serial":"CX600-1","kind":"pin","user":"101"}', '{}', 'running', 1, 1, 2)`);
    db.exec(`INSERT INTO stages (job_id, stage, status, facts, summary, started_at, ended_at, attempt)
             VALUES ('job-00000001', 'vlan', 'done', '{"vlan":12}', 'VLAN 12', 1, 2, 1)`);
    db.exec(`INSERT INTO audit (at, kind, serial, summary) VALUES (2, 'sign-in', 'CX600-1', 'signed in')`);
  },
};

/** What each seed must still read as once upgraded to the newest version. */
async function expectSeedKept(version: number, journal: Journal): Promise<void> {
  if (version < 1) return;
  expect(journal.device('CX600-1')).toMatchObject({ signedInInternally: true, internalFacts: { edge: 'sip.contoso.com' } });
  expect(journal.job('job-00000001')).toMatchObject({ state: 'running', attempts: 1, lastCompleted: 'vlan', facts: { vlan: 12 } });
  expect(journal.history('CX600-1')).toHaveLength(1);
}

function schemaOf(path: string): string[] {
  const db = new DatabaseSync(path);
  try {
    return (db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as { type: string; name: string; sql: string }[]).map(
      (r) => `${r.type} ${r.name}: ${r.sql.replace(/\s+/g, ' ')}`,
    );
  } finally {
    db.close();
  }
}

describe('schema migrations', () => {
  it('are numbered 1, 2, … without gaps, and every earlier version has a seed', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    for (let v = 0; v < SCHEMA_VERSION; v++) expect(SEEDS[v], `a seed for version ${v}`).toBeTypeOf('function');
  });

  it('upgrade a journal from every earlier version to the same schema as a new one, keeping its rows', async () => {
    const freshDir = join(root, 'fresh');
    (await Journal.open({ dir: freshDir })).close();
    const fresh = schemaOf(join(freshDir, JOURNAL_FILE));
    for (let v = 0; v < SCHEMA_VERSION; v++) {
      const at = join(root, `from-${v}`);
      await mkdir(at, { mode: 0o700 });
      const db = new DatabaseSync(join(at, JOURNAL_FILE));
      expect(migrate(db, v)).toBe(v);
      SEEDS[v]!(db);
      db.close();
      const journal = await Journal.open({ dir: at });
      try {
        expect(journal.integrityCheck()).toEqual(['ok']);
        await expectSeedKept(v, journal);
      } finally {
        journal.close();
      }
      expect(schemaOf(join(at, JOURNAL_FILE)), `upgraded from ${v}`).toEqual(fresh);
      const check = new DatabaseSync(join(at, JOURNAL_FILE));
      expect(userVersion(check)).toBe(SCHEMA_VERSION);
      check.close();
    }
  });

  it('roll a failing migration back whole and leave the version where it was', () => {
    const db = new DatabaseSync(join(dir, JOURNAL_FILE));
    const broken = [MIGRATIONS[0]!, { version: 2, what: 'broken', sql: 'CREATE TABLE half (a INTEGER); INSERT INTO nowhere VALUES (1);' }];
    expect(() => migrate(db, 2, broken)).toThrow(/nowhere/);
    expect(userVersion(db)).toBe(1);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuse a journal from a newer Tether without changing it', async () => {
    const db = new DatabaseSync(join(dir, JOURNAL_FILE));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = await readFile(join(dir, JOURNAL_FILE));
    const err = await Journal.open({ dir }).catch((e: unknown) => e);
    expect(TetherError.is(err, 'JOURNAL_TOO_NEW')).toBe(true);
    expect((await readFile(join(dir, JOURNAL_FILE))).equals(before)).toBe(true);
  });

  it('a file that is not a journal is JOURNAL_UNREADABLE, not a crash', async () => {
    await writeFile(join(dir, JOURNAL_FILE), Buffer.alloc(8192, 0x5a), { mode: 0o600 });
    const err = await Journal.open({ dir }).catch((e: unknown) => e);
    expect(TetherError.is(err, 'JOURNAL_UNREADABLE')).toBe(true);
  });
});

describe('kiosk_queue', () => {
  it('holds at most one waiting or running entry per phone, in arrival order, with known states only', async () => {
    (await Journal.open({ dir })).close();
    const db = new DatabaseSync(join(dir, JOURNAL_FILE));
    try {
      const add = db.prepare("INSERT INTO kiosk_queue (serial, enqueued_at, state, updated_at) VALUES (?, ?, 'waiting', ?)");
      add.run('B', 2, 2);
      add.run('A', 1, 1);
      expect(() => add.run('A', 3, 3)).toThrow(/UNIQUE/);
      db.exec("UPDATE kiosk_queue SET state = 'done' WHERE serial = 'A'");
      add.run('A', 3, 3);
      expect(() => db.exec("UPDATE kiosk_queue SET state = 'lost'")).toThrow(/CHECK/);
      const next = db.prepare("SELECT serial FROM kiosk_queue WHERE state = 'waiting' ORDER BY enqueued_at, id").all();
      expect(next.map((r) => r.serial)).toEqual(['B', 'A']);
    } finally {
      db.close();
    }
  });
});
