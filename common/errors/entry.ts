import type { StageId } from '../stages';

/**
 * One troubleshooting entry, worded for each audience (docs/troubleshooting.md): what the desk user
 * sees, what the desk user can do themselves, and what to tell the admin, with the admin's cmdlet.
 */
export interface ErrorEntry {
  /** The bootstrap stage this error belongs to, or null for the USB tether itself. */
  readonly stage: StageId | null;
  /** What the user sees: the symptom in plain words, one sentence. */
  readonly summary: string;
  /** What to tell the admin: the fix, naming the setting, record or command to check. */
  readonly fix: string;
  /** What the desk user can do themselves (cable, PIN, retry, whom to tell), in plain words: no code names, commands or cmdlets. */
  readonly userAction: string;
  /** The admin cmdlet or command that checks or repairs it, when there is one. */
  readonly cmdlet?: string;
}

export type ErrorTable = Readonly<Record<string, ErrorEntry>>;
