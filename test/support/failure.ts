import { TetherError } from '../../common/errors';

/** The TetherError `fn` throws; anything else it throws is re-thrown, and not throwing fails the test. */
export function failure(fn: () => unknown): TetherError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TetherError) return err;
    throw err;
  }
  throw new Error('expected a TetherError');
}

/** The TetherError `p` rejects with (as `failure`, for promises). */
export async function failureOf(p: Promise<unknown>): Promise<TetherError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TetherError) return err;
    throw err;
  }
  throw new Error('expected a TetherError');
}

/** The code of the TetherError `fn` throws, or 'ok' when it throws nothing (for tables of cases). */
export function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TetherError) return err.code;
    throw err;
  }
  return 'ok';
}
