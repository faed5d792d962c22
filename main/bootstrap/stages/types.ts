import type { SignInSpec, StageProgressView } from '../../../common/service/contract';
import type { StageId } from '../../../common/stages';
import type { InBandAddresses, SessionTimers } from '../../../native/protocol';
import type { Catalogue } from '../../../native/usb/catalogue';
import type { AttachedPhone } from '../../device/attach';
import type { PhoneProvider } from '../../device/manager';
import type { IssuedWebTicket } from '../../pool/auth/webticket';
import type { PoolHttpClient, PoolHttpOptions } from '../../pool/net/http';
import type { PoolResolver } from '../../pool/net/resolver';
import type { ImageCache } from '../../pool/update';
import type { AuthDone, ChainFound, DeviceUpdateFound, RegistrarFound } from '../pool-stages';

/**
 * The sign-in pipeline as a table of stages. Each stage is a named step over an explicit context;
 * what it learns is a plain-JSON fact (no secret) saved after the stage, so a job resumes from its
 * last completed stage after a restart. Options are split by lifetime:
 *
 *  - services: injected once per process (phones, DNS, HTTP, image cache, clock);
 *  - policy:   plain JSON with one defaults object, saved with the job;
 *  - spec:     what the job is asked to do (the contract's SignInSpec: serial, user, kind; no secret);
 *  - interaction: the person's answers (pairing decision, credentials), asked for when needed.
 *
 * Secrets and the web ticket live in `memory` only (never saved): a resumed job asks again.
 */

// ------------------------------------------------------------------------------------------ facts

export interface VlanFacts {
  readonly vlan: number | null;
  readonly source: 'lldp' | 'dhcp' | 'configured' | null;
  readonly problems: readonly string[];
}

export interface NetworkFacts {
  readonly vlan: number | null;
  readonly address: string;
  readonly dnsServers: readonly string[];
  readonly domain: string | null;
  readonly certProvUrl: string | null;
  readonly sipServers: readonly string[] | null;
  readonly optionProblems: readonly string[];
  /** The raw options 43/120 the phone received (hex), for stage 5's DHCP steps. */
  readonly option43Hex: string | null;
  readonly option120Hex: string | null;
}

/** Stage 3 found Device Update, or did not (the vendor's fallback: sign in first, check afterwards). */
export type FindUpdateFacts = ({ readonly found: true } & DeviceUpdateFound) | { readonly found: false; readonly reason: string; readonly code: string };

export interface UpdateFacts {
  readonly runningVersion: string;
  readonly offered: string | null;
  readonly pushed: { readonly version: string; readonly slot: string; readonly bytesSent: number; readonly resumes: number; readonly via: string } | null;
  /** True when stage 3 found no Device Update and the check waits for in-band provisioning after sign-in. */
  readonly deferred: boolean;
}

export type AuthFacts = (AuthDone & { readonly method: 'pin' | 'ntlm' }) | { readonly method: 'certificate'; readonly sipUri: string; readonly reason: string };

export interface CertificateFacts {
  readonly subject: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly thumbprint: string;
  /** Public: the issued certificate and its chain, handed back in the job's result. */
  readonly certificatePem: string;
  readonly chainPems: readonly string[];
  /** True when the phone's earlier certificate was kept (certificate sign-in). */
  readonly kept: boolean;
}

export interface LogonFacts {
  readonly sipUri: string | null;
  readonly registrar: string | null;
  readonly display: string;
  /** The update check the vendor's fallback makes after sign-in, when stage 3 found nothing (one line). */
  readonly lateUpdateCheck: string | null;
  /** What that check found and pushed (firmware from the in-band address), or null when none was made. */
  readonly lateUpdate?: UpdateFacts | null;
  /** The addresses in-band provisioning gave the phone (its registration report), or null. */
  readonly provisioning?: InBandAddresses | null;
}

export interface JobFacts {
  readonly modelId?: string;
  readonly vlan?: VlanFacts;
  readonly ip?: NetworkFacts;
  readonly 'find-update'?: FindUpdateFacts;
  readonly 'check-update'?: UpdateFacts;
  readonly registrar?: RegistrarFound;
  readonly 'ca-chain'?: ChainFound;
  readonly auth?: AuthFacts;
  readonly certificate?: CertificateFacts;
  readonly logon?: LogonFacts;
}

// ----------------------------------------------------------------------------------------- policy

/** Plain JSON, saved with the job; every field has a default in DEFAULT_POLICY. */
export interface SignInPolicy {
  /** SIP domain; null: the DNS domain of the phone's DHCP lease. */
  readonly domain: string | null;
  /** Root fingerprints (SHA-256) accepted for stage 6. */
  readonly rootFingerprints: readonly string[];
  /** Trust the OS store's roots in stage 6 as well (false for the lab). */
  readonly trustOsStore: boolean;
  /** The pool's web ports when they are not 80/443. */
  readonly httpPort: number | null;
  readonly httpsPort: number | null;
  readonly connectTimeoutMs: number;
  /** Waiting for the phone: at start, after its firmware reboot, after an unplug. */
  readonly reattachTimeoutMs: number;
  /** How long the phone may take to report its sign-in. */
  readonly registrationTimeoutMs: number;
  readonly keyBits: 1024 | 2048 | 4096;
  readonly deviceId: string | null;
  /** Push an offered firmware image (false: report the offer and go on). */
  readonly installUpdates: boolean;
  /** Times a PIN or password the pool refuses is asked for (the lab locks an account after 5). */
  readonly credentialAttempts: number;
}

export const DEFAULT_POLICY: SignInPolicy = {
  domain: null,
  rootFingerprints: [],
  trustOsStore: true,
  httpPort: null,
  httpsPort: null,
  connectTimeoutMs: 5000,
  reattachTimeoutMs: 120_000,
  registrationTimeoutMs: 30_000,
  keyBits: 2048,
  deviceId: null,
  installUpdates: true,
  credentialAttempts: 3,
};

export function policyOf(over: Partial<SignInPolicy> = {}): SignInPolicy {
  return { ...DEFAULT_POLICY, ...over };
}

// --------------------------------------------------------------------------------------- services

/** A pool-facing stage holds one slot while it runs (bounded concurrency toward the pool). */
export interface PoolSlots {
  acquire(signal: AbortSignal): Promise<() => void>;
}

/** What an earlier sign-in left that lets this one skip work (from the journal). */
export interface PriorSignIn {
  readonly signedInInternally: boolean;
  /**
   * What the last internal sign-in left for the external path (`tether-internal-sign-in/1`,
   * main/pool/external/facts.ts) as stored, unchecked; null when there is none.
   */
  readonly internalFacts: unknown;
  /** The certificate issued to this phone for this user by the last signed-in job, if any. */
  readonly certificate: { readonly user: string; readonly sipUri: string; readonly certificatePem: string; readonly chainPems: readonly string[] } | null;
}

/** Injected once per process and shared by every job. */
export interface BootstrapServices {
  readonly phones: PhoneProvider;
  readonly resolver: PoolResolver;
  /**
   * The DNS as seen from outside the corporate network (external sign-in, `spec.network:
   * 'external'`); without it an external job fails at stage 3 with EXTERNAL_PATH_UNAVAILABLE.
   */
  readonly externalResolver?: PoolResolver;
  readonly imageCache: ImageCache;
  readonly catalogue: Catalogue;
  readonly httpOptions?: Omit<PoolHttpOptions, 'resolver' | 'extraCaPems'>;
  /** Makes pool HTTP clients (default `new PoolHttpClient`); the bench counts requests through it. */
  readonly createHttp?: (options: PoolHttpOptions) => PoolHttpClient;
  /** The OS store (PEM) when policy.trustOsStore; default Node's bundled roots. */
  readonly osRoots?: readonly string[];
  readonly poolSlots: PoolSlots;
  readonly timers?: SessionTimers;
  readonly now: () => Date;
  readonly prior: (serial: string) => PriorSignIn;
}

// ------------------------------------------------------------------------------------ interaction

export interface PairingQuestion {
  readonly serial: string;
  readonly modelId: string;
  readonly code: string;
  readonly phoneDisplay: string | null;
  /**
   * 'start', or 'after-reboot' when the phone restarted into new firmware and did not recognise
   * this PC (normally it pairs by the key it remembered, and nobody is asked).
   */
  readonly reason: 'start' | 'after-reboot';
  /** Where the phone is attached: only a 'virtual' phone's reported display may be trusted (pairing-auto.ts). */
  readonly source: AttachedPhone['source'];
}

/** The person behind the job: asked only when a stage needs them. */
export interface Interaction {
  /** Compare the codes; false stops the job before any secret crosses. */
  confirmPairing(question: PairingQuestion, signal: AbortSignal): Promise<boolean>;
  /** The PIN or password, as a Buffer the job zeroes after use. */
  credentials(reason: 'first' | 'resumed' | 'rejected', signal: AbortSignal): Promise<Buffer>;
}

/** Where a job is between stages, for the phone's state and the job's (pairing, waiting, rebooting). */
export type JobPhase = 'waiting-for-phone' | 'pairing' | 'running' | 'needs-credentials' | 'rebooting';

// ---------------------------------------------------------------------------------------- context

/** In memory only, per run: never saved, gone after a restart. */
export interface JobMemory {
  phone: AttachedPhone | null;
  anonymous: PoolHttpClient | null;
  pool: PoolHttpClient | null;
  ticket: IssuedWebTicket | null;
}

export interface StageContext {
  readonly jobId: string;
  readonly spec: SignInSpec;
  readonly facts: JobFacts;
  readonly services: BootstrapServices;
  readonly policy: SignInPolicy;
  readonly interaction: Interaction;
  readonly progress: (update: StageProgressView) => void;
  readonly signal: AbortSignal;
  /** True when this run resumed a job saved by an earlier run (its secrets are gone). */
  readonly resumed: boolean;
  readonly memory: JobMemory;
  /** The attached, paired phone (waits for it and pairs, with events, when needed). */
  phone(reason?: 'start' | 'after-reboot'): Promise<AttachedPhone>;
  /** Tells the job's owner where it stands between calls (waiting for the phone, pairing, …). */
  phase(phase: JobPhase): void;
  /** Runs a wait for the phone (unplugged, rebooting) without the stage's pool slot, and takes one again after. */
  withoutPoolSlot<T>(wait: () => Promise<T>): Promise<T>;
  /** Anonymous HTTP (stages 3–6) and HTTP trusting the stage-6 chain only (7–8), made once per run. */
  anonymousHttp(): PoolHttpClient;
  poolHttp(): PoolHttpClient;
}

export interface StageResult<F> {
  readonly facts: F;
  /** One line for people: what the stage found or did, or why it was skipped. */
  readonly summary: string;
  readonly status?: 'done' | 'skipped';
}

export interface StageDefinition<K extends StageId = StageId> {
  readonly id: K;
  /** 'paired phone': the runner attaches and pairs first. */
  readonly needs: 'paired phone' | 'none';
  /** Talks to the pool: holds one pool slot while it runs. */
  readonly pool: boolean;
  run(ctx: StageContext): Promise<StageResult<NonNullable<JobFacts[K]>>>;
  /**
   * Called for this completed stage when a job resumes after it: 'redo' when what it left in
   * memory (a web ticket) is gone and a later stage still needs it.
   */
  onResume?(facts: JobFacts): 'keep' | 'redo';
}
