import type { StageId } from '../stages';

/** One troubleshooting entry: what the user sees and what fixes it. */
export interface ErrorEntry {
  /** The bootstrap stage this error belongs to, or null for the USB tether itself. */
  readonly stage: StageId | null;
  /** Plain-language symptom, one sentence. */
  readonly summary: string;
  /** Plain-language fix for the user or the admin. */
  readonly fix: string;
  /** What the desk user can do themselves (cable, PIN, retry), in plain words. */
  readonly userAction?: string;
  /** The admin cmdlet or command that checks or repairs it, when there is one. */
  readonly cmdlet?: string;
}

export type ErrorTable = Readonly<Record<string, ErrorEntry>>;
