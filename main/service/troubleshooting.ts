import { entryFor, isErrorCode, type SerializedTetherError } from '../../common/errors';
import type { Troubleshooting } from '../../common/service/contract';

/** A typed error with its catalogue entry, worded for the desk user and for the admin. */
export function troubleshootingOf(error: SerializedTetherError): Troubleshooting {
  const entry = isErrorCode(error.code) ? entryFor(error.code) : entryFor('INTERNAL');
  return {
    code: error.code,
    stage: error.stage ?? entry.stage,
    userSees: entry.summary,
    userCan: entry.userAction ?? 'Try again; if it fails again, tell your administrator what the screen says.',
    adminFix: entry.fix,
    cmdlet: entry.cmdlet ?? null,
    error,
  };
}
