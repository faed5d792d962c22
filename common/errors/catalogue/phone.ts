import type { ErrorTable } from '../entry';

/** Typed errors of the phone area: code → stage, summary and fix. */
export const phoneErrors = {
} as const satisfies ErrorTable;
