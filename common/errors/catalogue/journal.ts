import type { ErrorTable } from '../entry';

/** Typed errors of the journal (main/journal): the SQLite file that remembers phones, jobs and the audit trail. */
export const journalErrors = {
  JOURNAL_UNAVAILABLE: {
    stage: null,
    summary: 'This Node.js has no built-in SQLite (node:sqlite), so Tether cannot keep its journal.',
    fix: 'Run Tether through npm scripts or npx (they use the project\'s pinned Node 24), or install Node 22.13 or later; the installed app has it built in.',
    userAction: 'Start Tether from its installed shortcut, or ask your IT support to update it.',
  },
  JOURNAL_UNREADABLE: {
    stage: null,
    summary: "Tether's journal file is damaged or is not a Tether journal.",
    fix: 'Move journal.sqlite (and any journal.sqlite-wal / -shm beside it) out of the data folder and start again; Tether makes a new, empty journal. The old file can be inspected with the sqlite3 tool.',
    userAction: 'Ask your IT support to reset Tether\'s journal; your phones keep working.',
  },
  JOURNAL_TOO_NEW: {
    stage: null,
    summary: 'The journal was written by a newer version of Tether.',
    fix: 'Update Tether to the version that wrote the journal, or point it at another data folder with --data DIR.',
    userAction: 'Ask your IT support to update Tether on this computer.',
  },
  JOURNAL_BUSY: {
    stage: null,
    summary: 'Another Tether program kept the journal locked for too long.',
    fix: 'Close the other Tether window or command that uses the same data folder, then try again.',
    userAction: 'Close the other Tether window, then try again.',
  },
  JOURNAL_SECRET_REFUSED: {
    stage: null,
    summary: 'Tether refused to write a record that holds a field named like a password, PIN or ticket.',
    fix: 'This is a bug in Tether: secrets are never written to disk. Report it with the field path named in the message (the value itself is not shown).',
    userAction: 'Try again; if it happens again, tell your IT support.',
  },
  JOURNAL_NOT_FOUND: {
    stage: null,
    summary: 'The journal has no such phone or job.',
    fix: 'Check the serial or job id (tether jobs lists the jobs, tether history SERIAL a phone\'s history).',
    userAction: 'Check the phone or job you chose and try again.',
  },
  JOURNAL_CONFLICT: {
    stage: null,
    summary: 'The journal already has a job with that id.',
    fix: 'This is a bug in Tether: job ids are unique. Report it with the job id named in the message.',
    userAction: 'Try again; if it happens again, tell your IT support.',
  },
} as const satisfies ErrorTable;
