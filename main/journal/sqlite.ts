import type * as Sqlite from 'node:sqlite';
import { TetherError } from '../../common/errors';

export type SqliteModule = typeof Sqlite;

/** node:sqlite, looked up at run time so a Node without it gets a typed error instead of a failed import. */
export function builtinSqlite(): SqliteModule | undefined {
  // getBuiltinModule (Node ≥ 20.16) returns undefined for a module this Node does not have; a static
  // `import 'node:sqlite'` would instead fail the whole CLI at load time on Node 20.
  try {
    return process.getBuiltinModule?.('node:sqlite') as SqliteModule | undefined;
  } catch {
    // Node 22.5–22.12 without --experimental-sqlite throws here.
    return undefined;
  }
}

/** The SQLite engine, or JOURNAL_UNAVAILABLE naming this Node's version and the fix. */
export function loadSqlite(find: () => SqliteModule | undefined = builtinSqlite): SqliteModule {
  const sqlite = find();
  if (sqlite === undefined || typeof sqlite.DatabaseSync !== 'function') {
    throw new TetherError('JOURNAL_UNAVAILABLE', `Node ${process.version} has no built-in node:sqlite; Tether's journal needs Node 22.13 or later (npm scripts and npx run the project's pinned Node 24).`, {
      detail: { node: process.version },
    });
  }
  return sqlite;
}
