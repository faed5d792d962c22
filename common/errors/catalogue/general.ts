import type { ErrorTable } from '../entry';

/** Errors that belong to no particular area. */
export const generalErrors = {
  INTERNAL: {
    stage: null,
    summary: 'Tether hit an unexpected internal error.',
    fix: 'Try again; if it happens again, save a diagnostics bundle and report it.',
    userAction: 'Try again. If it happens again, tell your IT support.',
  },
  CANCELLED: {
    stage: null,
    summary: 'The operation was cancelled.',
    fix: 'Start it again when ready.',
    userAction: 'Start it again when you are ready.',
  },
  TIMEOUT: {
    stage: null,
    summary: 'The operation took too long and was stopped.',
    fix: 'Check the cable and the network, then try again.',
    userAction: 'Check that the phone is plugged in and its network cable is connected, then try again.',
  },
  BAD_INPUT: {
    stage: null,
    summary: 'The input was not valid.',
    fix: 'Check the value named in the message and try again.',
    userAction: 'Check what you typed (the number, name or address named in the message) and try again.',
  },
  FOLDER_NOT_PRIVATE: {
    stage: null,
    summary: 'A folder or file Tether keeps private belongs to another user or others can write to it.',
    fix: 'Another account could have planted or could change what is in it. Use a folder only you own (chmod 700, or leave the option out for the default under your data folder), or fix its owner and permissions.',
    userAction: 'Ask your IT support to check the folder named in the message; do not use a shared folder.',
  },
  FOLDER_UNWRITABLE: {
    stage: null,
    summary: 'Tether cannot create its private folder.',
    fix: 'Check that the parent folder named in the message exists and is writable by you, and that the disk is not full.',
    userAction: 'Free some disk space, or ask your IT support to check your profile folder.',
  },
} as const satisfies ErrorTable;
