import type { ErrorTable } from '../entry';

/** Typed errors of the protocol area: code → stage, summary and fix. */
export const protocolErrors = {
} as const satisfies ErrorTable;
