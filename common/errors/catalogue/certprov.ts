import type { ErrorTable } from '../entry';

/** Typed errors of the certprov area: code → stage, summary and fix. */
export const certprovErrors = {
} as const satisfies ErrorTable;
