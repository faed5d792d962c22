import type { ErrorTable } from '../entry';

/** Typed errors of the registrar area: code → stage, summary and fix. */
export const registrarErrors = {
} as const satisfies ErrorTable;
