import { randomBytes, randomUUID } from 'node:crypto';
import { TetherError, toTetherError, type SerializedTetherError } from '../../common/errors';
import {
  ContractError,
  FINAL_JOB_STATES,
  pendingStages,
  validateCall,
  type CallArgs,
  type JobState,
  type JobView,
  type PhoneState,
  type ServiceEventName,
  type ServiceEvents,
  type SignInResult,
  type SignInSpec,
  type StageView,
  type TetherService,
} from '../../common/service/contract';
import { STAGES, type StageId } from '../../common/stages';
import { realTimers, type SessionTimers } from '../../native/protocol';
import type { AttachedPhone } from '../device/attach';
import type { FleetEvent, PhoneProvider } from '../device/manager';
import { raceAbort, runJob, type StageRecord } from '../bootstrap/job-runner';
import { policyOf, type BootstrapServices, type JobFacts, type JobPhase, type PairingQuestion, type PriorSignIn, type SignInPolicy } from '../bootstrap/stages/types';
import { internalFactsOfJob, storedInternalFacts } from '../bootstrap/internal-facts';
import { JobQueue } from '../fleet/queue';
import { PhoneBook } from '../fleet/phone-book';
import { Slots } from '../fleet/slots';
import { Coalescer } from './coalesce';
import type { JobOwner, JobRecordView, JournalPort, JsonObject } from './journal-port';
import { troubleshootingOf } from '../../common/errors';

/** The fleet as the service sees it: phones by serial, and their comings and goings. */
export interface FleetDevices extends PhoneProvider {
  on(listener: (e: FleetEvent) => void): () => void;
  phones(): AttachedPhone[];
  /** Devices present but not attached, with why (a phone held by another program). */
  problems?(): Extract<FleetEvent, { type: 'error' }>[];
}

/** The shared services of every job (see BootstrapServices), plus the fleet and the journal. */
export interface TetherServiceOptions extends Pick<BootstrapServices, 'resolver' | 'externalResolver' | 'imageCache' | 'catalogue' | 'httpOptions' | 'createHttp' | 'osRoots'> {
  readonly devices: FleetDevices;
  readonly journal: JournalPort;
  /** Policy for new jobs (saved with each job); DEFAULT_POLICY fills the rest. */
  readonly policy?: Partial<SignInPolicy>;
  /** Pool-facing stages running at once across all jobs (default 8). */
  readonly poolConcurrency?: number;
  /** Jobs running at once (default 32); more wait in line. */
  readonly maxJobs?: number;
  /** At most one progress event per job this often (default 250 ms: four a second). */
  readonly progressIntervalMs?: number;
  readonly timers?: SessionTimers;
  readonly now?: () => number;
  /** Who runs jobs (default this process: pid + a token drawn once). */
  readonly owner?: JobOwner;
  /**
   * A standing decision on the pairing code (a kiosk's pre-approved serials, a demo comparing with
   * its virtual phone's display): true confirms, false refuses, undefined asks the front end
   * (`pairing` event, then `confirmPairing`). The pairing event is sent either way.
   */
  readonly autoConfirmPairing?: (question: PairingQuestion) => boolean | undefined;
}

/** The service plus what only its host may do (not part of the front ends' contract). */
export interface TetherServiceHost extends TetherService {
  /** Claims and runs every unfinished job in the journal (after a restart); returns their ids. */
  resumeUnfinished(): string[];
  /** Resolves when no job runs or waits. */
  idle(): Promise<void>;
  /** Cancels running jobs and stops listening to the fleet. */
  close(): Promise<void>;
  /** The pool slots and queue (the bench reads their peaks). */
  readonly stats: { readonly poolSlots: Slots; readonly queue: JobQueue };
}

interface Waiter<T> {
  resolve(value: T): void;
}

interface LiveJob {
  readonly jobId: string;
  readonly spec: SignInSpec;
  readonly policy: SignInPolicy;
  readonly createdAt: number;
  state: JobState;
  modelId: string | null;
  stages: StageView[];
  resumedAfter: StageId | null;
  failure: SerializedTetherError | null;
  result: SignInResult | null;
  updatedAt: number;
  controller: AbortController;
  pairing: Waiter<boolean> | null;
  credentials: Waiter<Buffer> | null;
}

const PHASE_STATE: Record<JobPhase, { job: JobState; phone: PhoneState }> = {
  'waiting-for-phone': { job: 'waiting-for-phone', phone: 'connecting' },
  pairing: { job: 'pairing', phone: 'pairing' },
  running: { job: 'running', phone: 'provisioning' },
  'needs-credentials': { job: 'needs-credentials', phone: 'provisioning' },
  rebooting: { job: 'rebooting', phone: 'rebooting' },
};

let processToken: JobOwner | undefined;
const thisProcess = (): JobOwner => (processToken ??= { pid: process.pid, token: randomBytes(8).toString('hex') });

/** Checks a call where it enters; a contract breach is a typed BAD_INPUT (never echoing a secret). */
function checked(name: string, args: unknown): void {
  try {
    validateCall(name, args);
  } catch (err) {
    if (err instanceof ContractError) throw new TetherError('BAD_INPUT', err.message);
    throw err;
  }
}

function resultOf(facts: JobFacts): SignInResult | null {
  const cert = facts.certificate;
  if (!cert || !facts.logon) return null;
  return { sipUri: facts.logon.sipUri ?? facts.auth?.sipUri ?? '', certificatePem: cert.certificatePem, chainPem: cert.chainPems, registrar: facts.logon.registrar };
}

function stageViewsOf(record: JobRecordView): StageView[] {
  const views = pendingStages();
  for (const r of record.stages) {
    const i = views.findIndex((v) => v.stage === r.stage);
    if (i < 0) continue;
    views[i] = {
      stage: r.stage,
      status: r.status,
      summary: r.summary,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      progress: null,
      failure: r.error ? troubleshootingOf(r.error) : null,
    };
  }
  return views;
}

export function createTetherService(options: TetherServiceOptions): TetherServiceHost {
  const { journal } = options;
  const timers = options.timers ?? realTimers;
  const now = options.now ?? Date.now;
  const owner = options.owner ?? thisProcess();
  const defaults = policyOf(options.policy);
  const listeners = new Map<ServiceEventName, Set<(payload: never) => void>>();
  const emit = <E extends ServiceEventName>(event: E, payload: ServiceEvents[E]): void => {
    for (const l of [...(listeners.get(event) ?? [])]) {
      try {
        (l as (p: ServiceEvents[E]) => void)(payload);
      } catch {
        // A front end's listener bug must not stop a sign-in.
      }
    }
  };
  const book = new PhoneBook(options.catalogue);
  const queue = new JobQueue(options.maxJobs ?? 32);
  const poolSlots = new Slots(options.poolConcurrency ?? 8);
  const live = new Map<string, LiveJob>();
  const progress = new Coalescer<ServiceEvents['progress']>((p) => emit('progress', p), options.progressIntervalMs ?? 250, timers, now);
  const phonesChanged = () => emit('phones', book.list());

  const onFleet = (e: FleetEvent): void => {
    if (e.type === 'attach') {
      const id = e.phone.identity;
      try {
        journal.seenDevice({ serial: id.serial, modelId: id.modelId, firmware: id.firmwareVersion });
      } catch {
        // The phone list must not depend on the journal being writable; the job will report that.
      }
    }
    if (book.onFleet(e)) phonesChanged();
  };
  const offFleet = options.devices.on(onFleet);
  for (const phone of options.devices.phones()) onFleet({ type: 'attach', phone });
  for (const problem of options.devices.problems?.() ?? []) onFleet(problem);

  const prior = (serial: string): PriorSignIn => {
    const device = journal.device(serial);
    const last = journal
      .jobs({ serial })
      .filter((j) => j.state === 'signed-in')
      .sort((a, b) => b.updatedAt - a.updatedAt)[0];
    const f = last?.facts as JobFacts | undefined;
    const certificate =
      last && f?.certificate && f.auth
        ? { user: last.spec.user, sipUri: f.auth.sipUri, certificatePem: f.certificate.certificatePem, chainPems: f.certificate.chainPems }
        : null;
    return { signedInInternally: device?.signedInInternally ?? false, internalFacts: storedInternalFacts(device?.internalFacts ?? null), certificate };
  };

  const services: BootstrapServices = {
    phones: options.devices,
    resolver: options.resolver,
    ...(options.externalResolver ? { externalResolver: options.externalResolver } : {}),
    imageCache: options.imageCache,
    catalogue: options.catalogue,
    ...(options.httpOptions ? { httpOptions: options.httpOptions } : {}),
    ...(options.createHttp ? { createHttp: options.createHttp } : {}),
    ...(options.osRoots ? { osRoots: options.osRoots } : {}),
    poolSlots,
    ...(options.timers ? { timers: options.timers } : {}),
    now: () => new Date(now()),
    prior,
  };

  const viewOf = (job: LiveJob): JobView => ({
    jobId: job.jobId,
    spec: job.spec,
    modelId: job.modelId,
    state: job.state,
    stages: job.stages,
    resumedAfter: job.resumedAfter,
    failure: job.failure ? troubleshootingOf(job.failure) : null,
    result: job.result,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  });
  const viewOfRecord = (r: JobRecordView): JobView => {
    const facts = r.facts as JobFacts;
    return {
      jobId: r.jobId,
      spec: r.spec,
      modelId: facts.modelId ?? journal.device(r.spec.serial)?.modelId ?? null,
      state: r.state,
      stages: stageViewsOf(r),
      resumedAfter: null,
      failure: r.error ? troubleshootingOf(r.error) : null,
      result: r.state === 'signed-in' ? resultOf(facts) : null,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  };

  const setState = (job: LiveJob, state: JobState, phone: PhoneState | null): void => {
    if (job.state === state) return;
    job.state = state;
    job.updatedAt = now();
    emit('job', viewOf(job));
    if (phone !== null) {
      book.setJob(job.spec.serial, job.jobId, phone);
      phonesChanged();
    }
  };

  const setStage = (job: LiveJob, stage: StageId, patch: Partial<StageView>): void => {
    job.stages = job.stages.map((v) => (v.stage === stage ? { ...v, ...patch } : v));
    job.updatedAt = now();
  };

  const liveFromRecord = (r: JobRecordView): LiveJob => {
    const facts = r.facts as JobFacts;
    return {
      jobId: r.jobId,
      spec: r.spec,
      policy: policyOf(r.policy as Partial<SignInPolicy>),
      createdAt: r.createdAt,
      state: r.state,
      modelId: facts.modelId ?? null,
      stages: stageViewsOf(r),
      resumedAfter: r.lastCompleted,
      failure: null,
      result: null,
      updatedAt: r.updatedAt,
      controller: new AbortController(),
      pairing: null,
      credentials: null,
    };
  };

  async function execute(job: LiveJob, resumed: boolean): Promise<void> {
    if (!journal.claim(job.jobId, owner)) {
      // Another live process runs it: never twice. Its phone and job are shown as the journal has
      // them, not left 'connecting' here for ever.
      live.delete(job.jobId);
      book.setJob(job.spec.serial, null, null, 'being signed in by another Tether');
      const record = journal.job(job.jobId);
      if (record) emit('job', viewOfRecord(record));
      phonesChanged();
      return;
    }
    const record = journal.job(job.jobId)!;
    const { serial } = job.spec;
    let outcome: { state: JobState; error: SerializedTetherError | null; saved?: boolean };
    try {
      journal.setJobState(job.jobId, 'running');
      const completed = record.stages.filter((s) => s.status !== 'failed').map((s) => s.stage);
      const facts = await runJob({
        jobId: job.jobId,
        spec: job.spec,
        policy: job.policy,
        services,
        signal: job.controller.signal,
        facts: record.facts as JobFacts,
        completed,
        resumed,
        interaction: {
          confirmPairing: (q, signal) => {
            const standing = options.autoConfirmPairing?.(q);
            if (standing !== undefined) {
              emit('pairing', { jobId: job.jobId, serial, code: q.code, reason: q.reason });
              return Promise.resolve(standing);
            }
            // The waiter exists before the event, so a listener may answer at once.
            const waiting = new Promise<boolean>((resolve) => (job.pairing = { resolve }));
            emit('pairing', { jobId: job.jobId, serial, code: q.code, reason: q.reason });
            return raceAbort(waiting, signal).finally(() => (job.pairing = null));
          },
          credentials: (reason, signal) => {
            const waiting = new Promise<Buffer>((resolve) => (job.credentials = { resolve }));
            emit('needsCredentials', { jobId: job.jobId, serial, kind: job.spec.kind, user: job.spec.user, reason });
            return raceAbort(waiting, signal).finally(() => (job.credentials = null));
          },
        },
        events: {
          stageStarted: (stage, at) => {
            setStage(job, stage, { status: 'started', startedAt: at, endedAt: null, summary: null, failure: null, progress: null });
            emit('stage', { jobId: job.jobId, serial, stage, status: 'started', summary: null, failure: null, at });
          },
          progress: (stage, view) => {
            setStage(job, stage, { status: 'progress', progress: view });
            progress.push(job.jobId, { ...view, jobId: job.jobId, serial, stage });
          },
          phase: (phase) => setState(job, PHASE_STATE[phase].job, PHASE_STATE[phase].phone),
        },
        save: async (r: StageRecord) => {
          progress.drop(job.jobId);
          const stageFacts: Record<string, unknown> = r.facts === null ? {} : { [r.stage]: r.facts };
          if (r.stage === 'vlan' && job.modelId === null) job.modelId = journal.device(serial)?.modelId ?? null;
          if (job.modelId !== null) stageFacts.modelId = job.modelId;
          journal.recordStage(job.jobId, {
            stage: r.stage,
            status: r.status,
            facts: stageFacts as JsonObject,
            summary: r.summary,
            reason: r.status === 'done' ? null : r.summary,
            startedAt: r.startedAt,
            endedAt: r.endedAt,
            error: r.error,
          });
          const failure = r.error ? troubleshootingOf(r.error) : null;
          setStage(job, r.stage, { status: r.status, summary: r.summary, endedAt: r.endedAt, progress: null, failure });
          emit('stage', { jobId: job.jobId, serial, stage: r.stage, status: r.status, summary: r.summary, failure, at: r.endedAt });
        },
      });
      job.result = resultOf(facts);
      const network = job.spec.network ?? 'internal';
      // The phone's mark, the audit and the final state in one transaction: a kill between them
      // left a job still running with its sign-in audited, finished and audited again on resume.
      // So a push from an earlier run of this job (resumed, retried) is audited here, exactly once.
      journal.atomically(() => {
        // Inside: what the external path needs later (tether-internal-sign-in/1, docs/pool/external.md).
        // Outside: the journal records only when and where (the internal facts stay as they were).
        journal.markSignedIn({
          serial,
          network,
          facts:
            network === 'internal'
              ? internalFactsOfJob(job.spec, job.policy, facts, new Date(now()))
              : { registrar: facts.logon?.registrar ?? null, rootFingerprint: facts['ca-chain']?.rootFingerprint ?? null },
        });
        journal.audit({ kind: 'sign-in', serial, jobId: job.jobId, summary: `${job.result?.sipUri ?? job.spec.user} signed in (${network})` });
        // Stage 4's push, or the one after sign-in with the in-band address (the vendor's fallback).
        for (const u of [facts['check-update'], facts.logon?.lateUpdate]) {
          if (u?.pushed) journal.audit({ kind: 'firmware-change', serial, jobId: job.jobId, summary: `firmware ${u.runningVersion} → ${u.pushed.version}` });
        }
        journal.setJobState(job.jobId, 'signed-in', null);
      });
      outcome = { state: 'signed-in', error: null, saved: true };
    } catch (err) {
      const e = toTetherError(err);
      const cancelled = e.code === 'CANCELLED' || job.controller.signal.aborted;
      outcome = { state: cancelled ? 'cancelled' : 'failed', error: e.toJSON() };
      try {
        journal.audit({ kind: cancelled ? 'sign-in-cancelled' : 'sign-in-failed', serial, jobId: job.jobId, summary: `${e.code}${e.stage ? ` at stage ${STAGES.find((s) => s.id === e.stage)!.n}` : ''}: ${e.message}`.slice(0, 500) });
      } catch {
        // The outcome below still reaches the front ends.
      }
    }
    progress.drop(job.jobId);
    job.failure = outcome.error;
    try {
      if (!outcome.saved) journal.setJobState(job.jobId, outcome.state, outcome.error);
    } finally {
      journal.release(job.jobId, owner);
      const phoneState: PhoneState = outcome.state === 'signed-in' ? 'signed-in' : outcome.state === 'cancelled' ? 'cancelled' : 'failed';
      book.setJob(serial, null, phoneState, outcome.error ? troubleshootingOf(outcome.error).userSees : null);
      setState(job, outcome.state, null);
      phonesChanged();
      live.delete(job.jobId);
    }
  }

  /** The journal itself failed around a job (busy, unreadable): the job ends failed, said so, never silently. */
  const unexpected = (job: LiveJob, err: unknown): void => {
    const e = toTetherError(err);
    job.failure = e.toJSON();
    live.delete(job.jobId);
    book.setJob(job.spec.serial, null, 'failed', troubleshootingOf(e).userSees);
    setState(job, 'failed', null);
    phonesChanged();
  };

  const enqueue = (job: LiveJob, resumed: boolean): void => {
    live.set(job.jobId, job);
    try {
      // The job starts after enqueue has shown it queued (a claim that fails at once must not be
      // overwritten by that).
      queue.add({ jobId: job.jobId, serial: job.spec.serial, run: () => Promise.resolve().then(() => execute(job, resumed)).catch((err: unknown) => unexpected(job, err)) });
    } catch (err) {
      live.delete(job.jobId);
      throw err;
    }
    book.setJob(job.spec.serial, job.jobId, book.state(job.spec.serial) === 'in-use' ? 'in-use' : 'connecting');
    emit('job', viewOf(job));
    phonesChanged();
  };

  const liveJob = (jobId: string): LiveJob => {
    const job = live.get(jobId);
    if (!job) throw new TetherError(journal.job(jobId) ? 'JOB_NOT_WAITING' : 'JOB_UNKNOWN', `Job ${jobId} is not running.`, { detail: { jobId } });
    return job;
  };

  const service: TetherServiceHost = {
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },

    async listPhones(args) {
      checked('listPhones', args);
      return book.list();
    },

    async startSignIn(args: CallArgs<'startSignIn'>) {
      checked('startSignIn', args);
      const spec: SignInSpec = { ...args, network: args.network ?? 'internal' };
      if (spec.kind === 'ntlm' && spec.sipUri === undefined) throw new TetherError('BAD_INPUT', "Windows (NTLM) sign-in needs the user's SIP URI.");
      const busy = queue.forSerial(spec.serial);
      if (busy) throw new TetherError('JOB_BUSY', `Phone ${spec.serial} already has job ${busy.jobId}.`, { detail: { serial: spec.serial, jobId: busy.jobId } });
      const jobId = randomUUID();
      journal.createJob({ jobId, spec, policy: defaults as unknown as JsonObject });
      const at = now();
      const job: LiveJob = {
        jobId,
        spec,
        policy: defaults,
        createdAt: at,
        state: 'queued',
        modelId: journal.device(spec.serial)?.modelId ?? null,
        stages: pendingStages(),
        resumedAfter: null,
        failure: null,
        result: null,
        updatedAt: at,
        controller: new AbortController(),
        pairing: null,
        credentials: null,
      };
      enqueue(job, false);
      return { jobId };
    },

    async confirmPairing(args) {
      checked('confirmPairing', args);
      const job = liveJob(args.jobId);
      const waiter = job.pairing;
      if (!waiter) throw new TetherError('JOB_NOT_WAITING', `Job ${args.jobId} is not waiting for a pairing decision.`, { detail: { jobId: args.jobId } });
      // One answer per question: a second one, even in the same tick, is refused.
      job.pairing = null;
      waiter.resolve(args.matches);
    },

    async provideCredentials(args) {
      checked('provideCredentials', args);
      const job = liveJob(args.jobId);
      const waiter = job.credentials;
      if (!waiter) throw new TetherError('JOB_NOT_WAITING', `Job ${args.jobId} is not waiting for credentials.`, { detail: { jobId: args.jobId } });
      // One answer per question: a second Buffer would hold the secret with no stage to zero it.
      job.credentials = null;
      // The stage zeroes this Buffer when it is done with it.
      waiter.resolve(Buffer.from(args.secret, 'utf8'));
    },

    async cancel(args) {
      checked('cancel', args);
      const job = live.get(args.jobId);
      if (job) {
        job.controller.abort();
        if (queue.remove(job.jobId)) {
          const error = new TetherError('CANCELLED', 'The sign-in was cancelled before it started.').toJSON();
          journal.setJobState(job.jobId, 'cancelled', error);
          job.failure = error;
          live.delete(job.jobId);
          book.setJob(job.spec.serial, null, 'cancelled');
          setState(job, 'cancelled', null);
          phonesChanged();
        }
        return;
      }
      const record = journal.job(args.jobId);
      if (!record) throw new TetherError('JOB_UNKNOWN', `There is no job ${args.jobId}.`, { detail: { jobId: args.jobId } });
      if (FINAL_JOB_STATES.includes(record.state)) return;
      // Another live Tether runs it: say so rather than answer as if it were cancelled.
      if (!journal.claim(args.jobId, owner)) {
        throw new TetherError('JOB_BUSY', `Job ${args.jobId} is running in another Tether; cancel it there.`, { detail: { jobId: args.jobId } });
      }
      // A job left unfinished by a process that ended: cancelling it is a journal entry.
      journal.setJobState(args.jobId, 'cancelled', new TetherError('CANCELLED', 'The unfinished sign-in was cancelled.').toJSON());
      journal.release(args.jobId, owner);
    },

    async retry(args) {
      checked('retry', args);
      if (live.has(args.jobId)) throw new TetherError('JOB_NOT_RETRYABLE', `Job ${args.jobId} is still running.`, { detail: { jobId: args.jobId } });
      const record = journal.job(args.jobId);
      if (!record) throw new TetherError('JOB_UNKNOWN', `There is no job ${args.jobId}.`, { detail: { jobId: args.jobId } });
      if (record.state !== 'failed' && record.state !== 'cancelled') {
        throw new TetherError('JOB_NOT_RETRYABLE', `Job ${args.jobId} is ${record.state}; only a failed or cancelled job runs again.`, { detail: { jobId: args.jobId } });
      }
      journal.setJobState(args.jobId, 'queued');
      enqueue({ ...liveFromRecord(record), state: 'queued' }, true);
      return { jobId: args.jobId };
    },

    async jobs(args) {
      checked('jobs', args);
      return journal.jobs(args.unfinishedOnly ? { unfinishedOnly: true } : {}).map((r) => {
        const job = live.get(r.jobId);
        return job ? viewOf(job) : viewOfRecord(r);
      });
    },

    async history(args) {
      checked('history', args);
      return journal.history(args.serial);
    },

    resumeUnfinished() {
      const ids: string[] = [];
      for (const r of journal.jobs({ unfinishedOnly: true })) {
        if (live.has(r.jobId) || queue.forSerial(r.spec.serial)) continue;
        enqueue(liveFromRecord(r), true);
        ids.push(r.jobId);
      }
      return ids;
    },

    idle: () => queue.idle(),

    async close() {
      offFleet();
      for (const job of live.values()) job.controller.abort();
      await queue.idle();
    },

    stats: { poolSlots, queue },
  };
  return service;
}
