import type { ErrorTable } from '../entry';

/** Errors of sign-in jobs themselves (the service and the fleet queue), not of one stage's work. */
export const jobErrors = {
  EXTERNAL_NEEDS_INTERNAL_FIRST: {
    stage: 'find-update',
    summary: 'This phone has not signed in inside the corporate network yet, so it cannot sign in from outside.',
    fix: 'Sign the phone in once on the internal network (it learns the external Device Update address, the pool chain and, for PIN sign-in, gets its certificate there), then sign in externally.',
    userAction: 'Connect the phone at the office (or over VPN) and sign in once; after that it can sign in from anywhere.',
  },
  EXTERNAL_PATH_UNAVAILABLE: {
    stage: 'find-update',
    summary: 'Signing in from outside the corporate network is not available in this version of Tether.',
    fix: 'Sign the phone in on the internal network; the external path (Edge, /RequestHandlerExt) comes with a later version.',
    userAction: 'Sign in at the office (or over VPN) for now.',
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
