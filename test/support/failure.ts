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
