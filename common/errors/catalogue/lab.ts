import type { ErrorTable } from '../entry';

/** Typed errors of the lab area: code → stage, summary and fix. */
export const labErrors = {
} as const satisfies ErrorTable;
