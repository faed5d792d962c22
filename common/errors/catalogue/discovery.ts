import type { ErrorTable } from '../entry';

/** Typed errors of the discovery area: code → stage, summary and fix. */
export const discoveryErrors = {
} as const satisfies ErrorTable;
