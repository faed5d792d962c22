import { TetherError } from '../../common/errors';

/** SQLite result codes (primary) that mean something to the user. */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** Maps an error from node:sqlite to the journal's typed errors; anything else is INTERNAL (a bug). */
export function journalFailure(err: unknown, path: string): TetherError {
  if (err instanceof TetherError) return err;
  const e = err as { errcode?: unknown; message?: unknown };
  const primary = typeof e.errcode === 'number' ? e.errcode & 0xff : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) {
    return new TetherError('JOURNAL_BUSY', `The journal at ${path} stayed locked: ${message}`, { detail: { path }, cause: err });
  }
  if (primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB) {
    return new TetherError('JOURNAL_UNREADABLE', `The journal at ${path} cannot be read: ${message}`, { detail: { path }, cause: err });
  }
  return new TetherError('INTERNAL', `Journal: ${message}`, { detail: { path }, cause: err });
}
