import type { ErrorTable } from '../entry';

/** Typed errors of the update area: code → stage, summary and fix. */
export const updateErrors = {
} as const satisfies ErrorTable;
