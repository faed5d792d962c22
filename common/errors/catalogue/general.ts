import type { ErrorTable } from '../entry';

/** Errors that belong to no particular area. */
export const generalErrors = {
  INTERNAL: {
    stage: null,
    summary: 'Tether hit an unexpected internal error.',
    fix: 'Try again; if it happens again, save a diagnostics bundle and report it.',
  },
  CANCELLED: {
    stage: null,
    summary: 'The operation was cancelled.',
    fix: 'Start it again when ready.',
  },
  TIMEOUT: {
    stage: null,
    summary: 'The operation took too long and was stopped.',
    fix: 'Check the cable and the network, then try again.',
  },
  BAD_INPUT: {
    stage: null,
    summary: 'The input was not valid.',
    fix: 'Check the value named in the message and try again.',
  },
} as const satisfies ErrorTable;
