import type { ErrorTable } from '../entry';

/** Typed errors of the auth area: code → stage, summary and fix. */
export const authErrors = {
} as const satisfies ErrorTable;
