/**
 * The time limit of a test whose work is large on purpose (a sweep of many inputs, a document near
 * the size limit): a hang guard, never a speed check. It sits far above what a loaded 2-core CI
 * machine takes (a sweep measured at 8 s alone took 23 s there), so only a real hang or
 * quadratic blow-up reaches it; the speed figures are `npm run bench`'s.
 */
export const SWEEP_TIMEOUT_MS = 300_000;
