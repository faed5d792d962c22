import type { ErrorTable } from '../entry';

/** Typed errors of the chain area: code → stage, summary and fix. */
export const chainErrors = {
} as const satisfies ErrorTable;
