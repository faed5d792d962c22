import type { ErrorTable } from '../entry';

/** Errors of sign-in jobs themselves (the service and the fleet queue), not of one stage's work. */
export const jobErrors = {
  EXTERNAL_PATH_UNAVAILABLE: {
    stage: 'find-update',
    summary: 'Tether has no DNS server to ask from outside the corporate network, so it cannot sign the phone in from there.',
    fix: 'Give Tether the DNS server the phone uses outside (`tether provision --external --dns HOST:PORT`, or `--lab` with `tether lab --view both`); the external names (sip.<domain>, the external Web Services) must resolve there.',
    userAction: 'Sign in at the office for now, or ask your IT support how to sign in from outside.',
  },
  JOB_UNKNOWN: {
    stage: null,
    summary: 'There is no sign-in job with that id.',
    fix: 'List the jobs (`tether jobs`) and use an id from there.',
    userAction: 'Start the sign-in again.',
  },
  JOB_BUSY: {
    stage: null,
    summary: 'The phone already has a sign-in running.',
    fix: 'Wait for the running sign-in to end, or cancel it first.',
    userAction: 'Wait for the sign-in on the screen to finish, or cancel it.',
  },
  JOB_NOT_WAITING: {
    stage: null,
    summary: 'The job is not waiting for that answer.',
    fix: 'Answer only what the job asks for (a pairing decision, or credentials after a needsCredentials event).',
    userAction: 'Follow the prompt on the screen.',
  },
  JOB_NOT_RETRYABLE: {
    stage: null,
    summary: 'Only a failed or cancelled job can be run again.',
    fix: 'Wait for the job to end; a signed-in job needs no retry.',
    userAction: 'Nothing to do: the job is still running or already signed in.',
  },
} as const satisfies ErrorTable;
