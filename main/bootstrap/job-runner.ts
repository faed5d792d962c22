import { TetherError, toTetherError, type SerializedTetherError } from '../../common/errors';
import type { SignInSpec, StageProgressView } from '../../common/service/contract';
import type { StageId } from '../../common/stages';
import { realTimers, type SessionTimers } from '../../native/protocol';
import type { AttachedPhone } from '../device/attach';
import { PoolHttpClient, type PoolHttpOptions } from '../pool/net/http';
import { externalHttpClient } from './external-stages';
import { PHONE_STAGES } from './stages';
import type { BootstrapServices, Interaction, JobFacts, JobMemory, JobPhase, SignInPolicy, StageContext, StageDefinition } from './stages/types';

/**
 * Runs a job's stages from the table in order, from where it stands: the first stage not yet
 * completed, or earlier when a completed stage's in-memory product is gone (onResume 'redo').
 * Every stage's outcome is handed to `save` before the next begins, so a crash loses at most the
 * stage that was running. The AbortSignal stops the running stage (CANCELLED).
 */

export interface StageRecord {
  readonly stage: StageId;
  readonly status: 'done' | 'skipped' | 'failed';
  /** The stage's facts (plain JSON, no secret); null when it failed. */
  readonly facts: unknown;
  readonly summary: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly error: SerializedTetherError | null;
}

export interface JobEvents {
  stageStarted(stage: StageId, at: number): void;
  progress(stage: StageId, view: StageProgressView): void;
  phase(phase: JobPhase): void;
}

export interface RunJobOptions {
  readonly jobId: string;
  readonly spec: SignInSpec;
  readonly policy: SignInPolicy;
  readonly services: BootstrapServices;
  readonly interaction: Interaction;
  readonly signal: AbortSignal;
  readonly events: JobEvents;
  /** Facts saved so far, by stage, and the stages completed (done or skipped). */
  readonly facts: JobFacts;
  readonly completed: readonly StageId[];
  /** This run picks up a job saved by an earlier one (secrets and the web ticket are gone). */
  readonly resumed: boolean;
  /** Called with each stage's outcome, done, skipped or failed, before the next stage starts. */
  save(record: StageRecord): Promise<void>;
  readonly table?: readonly StageDefinition[];
}

/** Where a job starts: after its last completed stage, or at the earliest completed stage that must run again. */
export function resumePoint(table: readonly StageDefinition[], completed: readonly StageId[], facts: JobFacts): number {
  const done = new Set(completed);
  let at = table.findIndex((s) => !done.has(s.id));
  if (at === -1) at = table.length;
  for (let i = 0; i < at; i++) {
    if (table[i]!.onResume?.(facts) === 'redo') return i;
  }
  return at;
}

/** Rejects with CANCELLED as soon as the signal fires; the work left running is caught and dropped. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new TetherError('CANCELLED', 'The sign-in was cancelled.'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TetherError('CANCELLED', 'The sign-in was cancelled.'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Rejects with `error()` when `work` takes longer than `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number, timers: SessionTimers, error: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = timers.setTimeout(() => reject(error()), ms);
    work.then(
      (v) => {
        timers.clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        timers.clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export async function runJob(options: RunJobOptions): Promise<JobFacts> {
  const table = options.table ?? PHONE_STAGES;
  const { services, policy, signal, events } = options;
  const timers = services.timers ?? realTimers;
  const facts: Record<string, unknown> = { ...options.facts };
  const memory: JobMemory = { phone: null, anonymous: null, pool: null, ticket: null };
  const makeHttp = (extraCaPems: readonly string[], baseRoots?: readonly string[]): PoolHttpClient => {
    const o: PoolHttpOptions = { ...services.httpOptions, resolver: services.resolver, extraCaPems, ...(baseRoots ? { baseRoots } : {}) };
    return services.createHttp ? services.createHttp(o) : new PoolHttpClient(o);
  };
  let current: StageId | null = null;
  /** The running stage's pool slot, while it holds one. */
  type Hold = { release: (() => void) | null; ended: boolean };
  let hold: Hold | null = null;

  /**
   * Runs `wait` (for a person, or for the phone to come back) without the running stage's pool
   * slot, and takes one again after: as many slow typists, rebooting or unplugged phones as slots
   * would otherwise stop every other phone's pool stages.
   */
  const withoutSlot = async <T>(wait: () => Promise<T>, s: AbortSignal): Promise<T> => {
    const held = hold !== null && hold.release !== null ? hold : null;
    if (held) {
      held.release!();
      held.release = null;
    }
    try {
      return await wait();
    } finally {
      if (held && !held.ended) {
        const release = await services.poolSlots.acquire(s);
        // The stage may have ended (cancelled) while this waited for the slot.
        if (held.ended) release();
        else held.release = release;
      }
    }
  };

  const acquirePhone = async (hint?: 'start' | 'after-reboot'): Promise<AttachedPhone> => {
    const had = memory.phone;
    if (had && had.session.state === 'open' && had.session.paired) return had;
    return withoutSlot(() => attachAndPair(had, hint), signal);
  };

  const attachAndPair = async (had: AttachedPhone | null, hint?: 'start' | 'after-reboot'): Promise<AttachedPhone> => {
    // A phone that remembers this PC pairs by its key at attach (docs/tether-protocol.md §5.7):
    // session.paired is then already true below, and nobody is asked for a code.
    events.phase(hint === 'after-reboot' ? 'rebooting' : 'waiting-for-phone');
    const phone = await raceAbort(services.phones.waitForSerial(options.spec.serial, { timeoutMs: policy.reattachTimeoutMs, ...(had ? { after: had } : {}) }), signal);
    memory.phone = phone;
    if (!phone.session.paired) {
      const reason = hint ?? (had ? 'after-reboot' : 'start');
      events.phase('pairing');
      const code = phone.session.pairing().sas;
      // A phone that cannot answer its status (garbage on the wire, a stall) fails here, typed.
      const display = (await raceAbort(phone.session.call('status', {}), signal)).displayText;
      const yes = await raceAbort(
        options.interaction.confirmPairing({ serial: phone.identity.serial, modelId: phone.identity.modelId, code, phoneDisplay: display, reason, source: phone.source }, signal),
        signal,
      );
      if (!yes) throw new TetherError('PAIRING_REFUSED', undefined, { detail: { serial: phone.identity.serial } });
      // A phone that never acknowledges (garbage on the wire, a stall) must not hold the job forever.
      await raceAbort(withTimeout(phone.session.confirmPairing(), policy.connectTimeoutMs * 2, timers, () => {
        void phone.close();
        return new TetherError('PROTOCOL_CALL_TIMEOUT', `The phone did not acknowledge the pairing within ${policy.connectTimeoutMs * 2} ms.`, { detail: { serial: phone.identity.serial } });
      }), signal);
    }
    events.phase('running');
    return phone;
  };

  const interaction: Interaction = {
    confirmPairing: (q, s) => options.interaction.confirmPairing(q, s),
    credentials: async (reason, s) => {
      events.phase('needs-credentials');
      try {
        return await withoutSlot(() => raceAbort(options.interaction.credentials(reason, s), s), s);
      } finally {
        events.phase('running');
      }
    },
  };

  const ctx = (stage: StageId): StageContext => ({
    jobId: options.jobId,
    spec: options.spec,
    facts: facts as JobFacts,
    services,
    policy,
    interaction,
    progress: (view) => events.progress(stage, view),
    signal,
    resumed: options.resumed,
    memory,
    phone: acquirePhone,
    phase: (p) => events.phase(p),
    withoutPoolSlot: (wait) => withoutSlot(wait, signal),
    anonymousHttp: () => (memory.anonymous ??= makeHttp([])),
    // From stage 7 on the pool is trusted the way the phone trusts it: through the stage-6 chain only;
    // outside, through the external DNS and over TLS only (EXTERNAL_PLAIN_HTTP_REFUSED otherwise).
    poolHttp: () => {
      const chain = (facts['ca-chain'] as JobFacts['ca-chain'])!.pems;
      if (options.spec.network !== 'external') return (memory.pool ??= makeHttp(chain, []));
      return (memory.pool ??= externalHttpClient(chain, services.externalResolver ?? services.resolver, services.httpOptions));
    },
  });

  try {
    for (let i = resumePoint(table, options.completed, options.facts); i < table.length; i++) {
      const stage = table[i]!;
      current = stage.id;
      if (signal.aborted) throw new TetherError('CANCELLED', 'The sign-in was cancelled.');
      // Attach and pair before the stage's clock starts: waiting for a person is not stage time.
      if (stage.needs === 'paired phone') await acquirePhone();
      const slot: Hold | null = stage.pool ? { release: await services.poolSlots.acquire(signal), ended: false } : null;
      hold = slot;
      const startedAt = services.now().getTime();
      events.stageStarted(stage.id, startedAt);
      let result;
      try {
        result = await raceAbort(stage.run(ctx(stage.id)), signal);
      } finally {
        if (slot) {
          slot.ended = true;
          slot.release?.();
          slot.release = null;
        }
        hold = null;
      }
      facts[stage.id] = result.facts;
      if (stage.id === 'vlan' && memory.phone) facts.modelId = memory.phone.identity.modelId;
      await options.save({ stage: stage.id, status: result.status ?? 'done', facts: result.facts, summary: result.summary, startedAt, endedAt: services.now().getTime(), error: null });
    }
    current = null;
    return facts as JobFacts;
  } catch (err) {
    const typed = toTetherError(err);
    const stage = current ?? 'vlan';
    // Errors raised by shared transport code carry no stage (or a generic one); the running stage owns them.
    const owned = typed.stage === stage || typed.code === 'CANCELLED' ? typed : typed.withStage(stage);
    const at = services.now().getTime();
    await options.save({ stage, status: 'failed', facts: null, summary: `${owned.code}: ${owned.message}`, startedAt: at, endedAt: at, error: owned.toJSON() }).catch(() => undefined);
    throw owned;
  } finally {
    memory.ticket?.dispose();
    memory.anonymous?.close();
    memory.pool?.close();
  }
}
