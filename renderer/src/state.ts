import type { JobView, NeedsCredentialsEvent, PairingEvent, PhoneInfo, ProgressEventView, StageEventView } from '../../common/service/contract';
import { FINAL_JOB_STATES } from '../../common/service/contract';

/**
 * What the window knows, built only from the service's events and call results (a pure reducer,
 * so the same events always give the same screen). Secrets are never part of it.
 */
export interface WindowState {
  readonly phones: readonly PhoneInfo[];
  readonly jobs: Readonly<Record<string, JobView>>;
  /** The pairing code a job waits on the user to compare, by job id. */
  readonly pairing: Readonly<Record<string, PairingEvent>>;
  /** The job that asks for a PIN or password, by job id. */
  readonly credentials: Readonly<Record<string, NeedsCredentialsEvent>>;
  readonly connected: boolean;
}

export type WindowAction =
  | { readonly type: 'phones'; readonly phones: readonly PhoneInfo[] }
  | { readonly type: 'job'; readonly job: JobView }
  | { readonly type: 'jobs'; readonly jobs: readonly JobView[] }
  | { readonly type: 'stage'; readonly event: StageEventView }
  | { readonly type: 'progress'; readonly event: ProgressEventView }
  | { readonly type: 'pairing'; readonly event: PairingEvent }
  | { readonly type: 'pairing-answered'; readonly jobId: string }
  | { readonly type: 'needs-credentials'; readonly event: NeedsCredentialsEvent }
  | { readonly type: 'credentials-sent'; readonly jobId: string }
  | { readonly type: 'connected'; readonly connected: boolean };

export const INITIAL_STATE: WindowState = { phones: [], jobs: {}, pairing: {}, credentials: {}, connected: false };

const without = <T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> => {
  if (!(key in record)) return record as Record<string, T>;
  const copy = { ...record };
  delete copy[key];
  return copy;
};

/** A job that is no longer pairing or asking has no prompt left open. */
function settle(state: WindowState, job: JobView): WindowState {
  let { pairing, credentials } = state;
  if (job.state !== 'pairing') pairing = without(pairing, job.jobId);
  if (job.state !== 'needs-credentials') credentials = without(credentials, job.jobId);
  return { ...state, pairing, credentials, jobs: { ...state.jobs, [job.jobId]: job } };
}

export function reduce(state: WindowState, action: WindowAction): WindowState {
  switch (action.type) {
    case 'phones':
      return { ...state, phones: action.phones };
    case 'job': {
      const known = state.jobs[action.job.jobId];
      // Events may overtake a call's answer: never go back to an older view.
      if (known && known.updatedAt > action.job.updatedAt) return state;
      return settle(state, action.job);
    }
    case 'jobs':
      return action.jobs.reduce<WindowState>((s, job) => reduce(s, { type: 'job', job }), state);
    case 'stage': {
      const job = state.jobs[action.event.jobId];
      if (!job) return state;
      const e = action.event;
      const stages = job.stages.map((s) => {
        if (s.stage !== e.stage) return s;
        const starting = e.status === 'started';
        const ending = e.status === 'done' || e.status === 'skipped' || e.status === 'failed';
        return {
          ...s,
          status: e.status,
          summary: e.summary ?? s.summary,
          failure: e.failure ?? s.failure,
          startedAt: starting ? e.at : s.startedAt,
          endedAt: ending ? e.at : s.endedAt,
          progress: ending ? null : s.progress,
        };
      });
      return { ...state, jobs: { ...state.jobs, [job.jobId]: { ...job, stages } } };
    }
    case 'progress': {
      const job = state.jobs[action.event.jobId];
      if (!job) return state;
      const { jobId: _j, serial: _s, stage, ...progress } = action.event;
      const stages = job.stages.map((s) => (s.stage === stage && s.status !== 'done' ? { ...s, status: 'progress' as const, progress } : s));
      return { ...state, jobs: { ...state.jobs, [job.jobId]: { ...job, stages } } };
    }
    case 'pairing':
      return { ...state, pairing: { ...state.pairing, [action.event.jobId]: action.event } };
    case 'pairing-answered':
      return { ...state, pairing: without(state.pairing, action.jobId) };
    case 'needs-credentials':
      return { ...state, credentials: { ...state.credentials, [action.event.jobId]: action.event } };
    case 'credentials-sent':
      return { ...state, credentials: without(state.credentials, action.jobId) };
    case 'connected':
      return { ...state, connected: action.connected };
  }
}

/** The job a phone panel shows: the phone's current job, else its latest one. */
export function jobForPhone(state: WindowState, phone: PhoneInfo): JobView | null {
  if (phone.jobId && state.jobs[phone.jobId]) return state.jobs[phone.jobId]!;
  let latest: JobView | null = null;
  for (const job of Object.values(state.jobs)) {
    if (job.spec.serial === phone.serial && (!latest || job.createdAt > latest.createdAt)) latest = job;
  }
  return latest;
}

export const isFinal = (job: JobView): boolean => FINAL_JOB_STATES.includes(job.state);
