import type { Troubleshooting } from '../service/contract';
import { entryFor } from './catalogue';
import { TetherError, type SerializedTetherError } from './tether-error';

/**
 * The troubleshooting entry of a typed error for every audience: what the desk user sees and can
 * do, and what to tell the admin (with the cmdlet). A serialized error is rebuilt first, so one
 * with an unknown code (from another Tether version) or a malformed one reads as INTERNAL rather
 * than throwing. The error's own stage wins over the catalogue's (a USB fault during the push is
 * stage 4's).
 */
export function troubleshootingOf(error: TetherError | SerializedTetherError): Troubleshooting {
  const err = error instanceof TetherError ? error : TetherError.fromJSON(error);
  const entry = entryFor(err.code);
  return {
    code: err.code,
    stage: err.stage,
    userSees: entry.summary,
    userCan: entry.userAction,
    adminFix: entry.fix,
    cmdlet: entry.cmdlet ?? null,
    error: err.toJSON(),
  };
}
