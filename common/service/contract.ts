import type { SerializedTetherError } from '../errors/tether-error';
import { STAGES, type StageId } from '../stages';

/**
 * The one contract between Tether's core (the service in main/service) and every front end: the
 * CLI, the Electron main process (over IPC, through the preload) and the loopback browser host
 * (over a WebSocket). Types and validators only — no Node — so the renderer may import it.
 *
 * Calls are request/response; events flow from the service to the front end. Secrets enter only
 * through `provideCredentials` and never come out: no event, result or error carries them.
 * Every payload that crosses a process or network boundary is checked with `validateCall` where
 * it enters. Specified in docs/service.md.
 */

export const CONTRACT_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Phones

/**
 * One phone's connection state, one enum for every front end (as adb's ConnectionState):
 * connecting → pairing → ready → provisioning → rebooting → signed-in | failed | unplugged | cancelled;
 * `in-use` when another program holds the phone's interface (a state, not a failed job).
 */
export const PHONE_STATES = [
  'connecting',
  'pairing',
  'ready',
  'provisioning',
  'rebooting',
  'signed-in',
  'failed',
  'unplugged',
  'cancelled',
  'in-use',
] as const;
export type PhoneState = (typeof PHONE_STATES)[number];

export type SignInKind = 'pin' | 'ntlm';

export interface PhoneInfo {
  readonly serial: string;
  /** Catalogue id: CX600, CX700, CX3000, HP4120, AASTRA6725IP. */
  readonly modelId: string;
  /** For people: "Polycom CX600". */
  readonly modelName: string;
  /** Running firmware, when known. */
  readonly firmware: string | null;
  readonly state: PhoneState;
  /** A built-in virtual phone (demo), not one on the USB bus. */
  readonly virtual: boolean;
  /** The job working on this phone now, if any. */
  readonly jobId: string | null;
  /** Which sign-in kinds the model supports (a CX700 has no dial pad: NTLM only). */
  readonly signInKinds: readonly SignInKind[];
  /** One line for people when the state needs words ("in use by another program"). */
  readonly detail: string | null;
}

// ---------------------------------------------------------------------------------------------
// Jobs

/** Where the phone signs in from: inside the corporate network, or through the Edge (needs one internal sign-in first). */
export type NetworkPath = 'internal' | 'external';

/** What a sign-in job is asked to do. No secret: the PIN or password comes through provideCredentials. */
export interface SignInSpec {
  readonly serial: string;
  readonly kind: SignInKind;
  /** PIN sign-in: the phone number or extension. NTLM: DOMAIN\user. */
  readonly user: string;
  /** NTLM only: the user's SIP URI (sip:alice@contoso.com). */
  readonly sipUri?: string;
  readonly network?: NetworkPath;
}

export const JOB_STATES = [
  'queued',
  'waiting-for-phone',
  'pairing',
  'running',
  'needs-credentials',
  'rebooting',
  'signed-in',
  'failed',
  'cancelled',
] as const;
export type JobState = (typeof JOB_STATES)[number];
export const FINAL_JOB_STATES: readonly JobState[] = ['signed-in', 'failed', 'cancelled'];

export const STAGE_STATUSES = ['pending', 'started', 'progress', 'done', 'skipped', 'failed'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

/** Live progress inside a stage (coalesced: the latest wins, a few per second per phone at most). */
export interface StageProgressView {
  readonly message: string;
  /** 0..1 when the stage can tell. */
  readonly fraction?: number;
  /** Firmware push: bytes sent of total, and the estimated time left. */
  readonly bytes?: number;
  readonly totalBytes?: number;
  readonly etaMs?: number;
}

/** The troubleshooting entry of a typed error, worded for each audience. */
export interface Troubleshooting {
  readonly code: string;
  readonly stage: StageId | null;
  /** What the desk user sees: the symptom in plain words. */
  readonly userSees: string;
  /** What the desk user can do themselves (cable, PIN, retry). */
  readonly userCan: string;
  /** What to tell the admin, and the admin's fix. */
  readonly adminFix: string;
  /** The admin cmdlet or command that checks or repairs it. */
  readonly cmdlet: string | null;
  /** The typed error itself (code, message, detail — never a secret). */
  readonly error: SerializedTetherError;
}

export interface StageView {
  readonly stage: StageId;
  readonly status: StageStatus;
  /** One line for people: what the stage found or did, or why it was skipped. */
  readonly summary: string | null;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly progress: StageProgressView | null;
  readonly failure: Troubleshooting | null;
}

/** What a signed-in job hands back: the phone's issued certificate and the pool chain (public). */
export interface SignInResult {
  readonly sipUri: string;
  readonly certificatePem: string;
  readonly chainPem: readonly string[];
  readonly registrar: string | null;
}

export interface JobView {
  readonly jobId: string;
  readonly spec: SignInSpec;
  readonly modelId: string | null;
  readonly state: JobState;
  readonly stages: readonly StageView[];
  /** Set when the job resumed after a restart: the last stage completed before it. */
  readonly resumedAfter: StageId | null;
  readonly failure: Troubleshooting | null;
  readonly result: SignInResult | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface HistoryEntry {
  readonly at: number;
  /** sign-in, wipe, re-provision, firmware-change, bundle-import, kiosk-start, kiosk-stop, … */
  readonly kind: string;
  readonly serial: string | null;
  readonly jobId: string | null;
  /** One line for people. */
  readonly summary: string;
}

// ---------------------------------------------------------------------------------------------
// Events (service → front end)

export interface PairingEvent {
  readonly jobId: string;
  readonly serial: string;
  /** The 6-digit code Tether shows; the phone shows its own on its display. */
  readonly code: string;
  readonly reason: 'start' | 'after-reboot';
}

export interface NeedsCredentialsEvent {
  readonly jobId: string;
  readonly serial: string;
  readonly kind: SignInKind;
  readonly user: string;
  /** first: stage 7 needs them; resumed: the job resumed after a restart and secrets are never kept; rejected: the pool refused the last ones. */
  readonly reason: 'first' | 'resumed' | 'rejected';
}

export interface StageEventView {
  readonly jobId: string;
  readonly serial: string;
  readonly stage: StageId;
  readonly status: StageStatus;
  readonly summary: string | null;
  readonly failure: Troubleshooting | null;
  readonly at: number;
}

export interface ProgressEventView extends StageProgressView {
  readonly jobId: string;
  readonly serial: string;
  readonly stage: StageId;
}

export interface ServiceEvents {
  phones: readonly PhoneInfo[];
  job: JobView;
  stage: StageEventView;
  progress: ProgressEventView;
  pairing: PairingEvent;
  needsCredentials: NeedsCredentialsEvent;
}
export type ServiceEventName = keyof ServiceEvents;
export const SERVICE_EVENTS: readonly ServiceEventName[] = ['phones', 'job', 'stage', 'progress', 'pairing', 'needsCredentials'];

// ---------------------------------------------------------------------------------------------
// Calls (front end → service)

export interface ServiceCalls {
  listPhones(args: Record<string, never>): Promise<readonly PhoneInfo[]>;
  startSignIn(args: SignInSpec): Promise<{ readonly jobId: string }>;
  confirmPairing(args: { readonly jobId: string; readonly matches: boolean }): Promise<void>;
  /** The PIN or password for a job that asked for it. Never echoed back anywhere. */
  provideCredentials(args: { readonly jobId: string; readonly secret: string }): Promise<void>;
  cancel(args: { readonly jobId: string }): Promise<void>;
  /** Runs a failed or cancelled job again from its last completed stage; returns the job id (the same one). */
  retry(args: { readonly jobId: string }): Promise<{ readonly jobId: string }>;
  jobs(args: { readonly unfinishedOnly?: boolean }): Promise<readonly JobView[]>;
  history(args: { readonly serial: string }): Promise<readonly HistoryEntry[]>;
}
export type ServiceCallName = keyof ServiceCalls;
export type CallArgs<K extends ServiceCallName> = Parameters<ServiceCalls[K]>[0];
export type CallResult<K extends ServiceCallName> = Awaited<ReturnType<ServiceCalls[K]>>;

/** The whole service as a front end sees it: calls, and `on(event)` returning an unsubscribe. */
export interface TetherService extends ServiceCalls {
  on<E extends ServiceEventName>(event: E, listener: (payload: ServiceEvents[E]) => void): () => void;
}

// ---------------------------------------------------------------------------------------------
// Validation where data enters (IPC, WebSocket, CLI arguments)

export class ContractError extends Error {
  override readonly name = 'ContractError';
}

type Check = (value: unknown, path: string) => void;

const fail = (path: string, want: string): never => {
  throw new ContractError(`${path}: expected ${want}`);
};
const MAX_TEXT = 512;
const text = (max = MAX_TEXT): Check => (v, p) => {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) fail(p, `a string of 1–${max} characters`);
  // Control characters never belong in a contract field (they would reach terminals and logs).
  // eslint-disable-next-line no-control-regex -- the point is to find control characters
  if (/[\u0000-\u001f\u007f]/.test(v as string)) fail(p, 'text without control characters');
};
const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'true or false');
};
const oneOf = (values: readonly string[]): Check => (v, p) => {
  if (typeof v !== 'string' || !values.includes(v)) fail(p, `one of ${values.join(', ')}`);
};
const pattern = (re: RegExp, what: string, max = MAX_TEXT): Check => (v, p) => {
  text(max)(v, p);
  if (!re.test(v as string)) fail(p, what);
};

interface Field {
  readonly check: Check;
  readonly optional?: boolean;
}
const object = (fields: Record<string, Field>): Check => (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(p, 'an object');
  const record = v as Record<string, unknown>;
  // Own keys only: `in` would let through a payload's "constructor" or "__proto__" (Object.prototype's names).
  for (const key of Object.keys(record)) if (!Object.hasOwn(fields, key)) fail(`${p}.${key}`, 'no such field');
  for (const [key, field] of Object.entries(fields)) {
    const value = record[key];
    if (value === undefined) {
      if (!field.optional) fail(`${p}.${key}`, 'a value');
      continue;
    }
    field.check(value, `${p}.${key}`);
  }
};

export const JOB_ID = /^[A-Za-z0-9-]{8,64}$/;
export const SERIAL = /^[A-Za-z0-9._-]{1,64}$/;
const jobId: Field = { check: pattern(JOB_ID, 'a job id') };

const signInSpec = object({
  serial: { check: pattern(SERIAL, 'a phone serial (letters, digits, . _ -)', 64) },
  kind: { check: oneOf(['pin', 'ntlm']) },
  user: { check: text(256) },
  sipUri: { check: pattern(/^sip:[^\s@<>"]+@[^\s@<>"]+$/i, 'a SIP URI (sip:user@domain)', 256), optional: true },
  network: { check: oneOf(['internal', 'external']), optional: true },
});

/** One validator per call; the argument object must match exactly (unknown fields are refused). */
export const CALL_VALIDATORS: { readonly [K in ServiceCallName]: Check } = {
  listPhones: object({}),
  startSignIn: signInSpec,
  confirmPairing: object({ jobId, matches: { check: bool } }),
  // A PIN or password: bounded, but its content is the user's; never echoed in the error.
  provideCredentials: object({
    jobId,
    secret: {
      check: (v, p) => {
        if (typeof v !== 'string' || v.length === 0 || v.length > 256) fail(p, 'a secret of 1–256 characters');
      },
    },
  }),
  cancel: object({ jobId }),
  retry: object({ jobId }),
  jobs: object({ unfinishedOnly: { check: bool, optional: true } }),
  history: object({ serial: { check: pattern(SERIAL, 'a phone serial', 64) } }),
};

export function isServiceCallName(name: unknown): name is ServiceCallName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(CALL_VALIDATORS, name);
}

/** Checks a call's name and arguments where they enter; throws ContractError (never echoing a secret). */
export function validateCall(name: unknown, args: unknown): { name: ServiceCallName; args: unknown } {
  if (!isServiceCallName(name)) throw new ContractError(`unknown call ${typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name}`);
  CALL_VALIDATORS[name](args, name);
  return { name, args };
}

/** Every stage in order, pending: the view of a job that has not started. */
export function pendingStages(): StageView[] {
  return STAGES.map((s) => ({ stage: s.id, status: 'pending', summary: null, startedAt: null, endedAt: null, progress: null, failure: null }));
}
