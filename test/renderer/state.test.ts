import { describe, expect, it } from 'vitest';
import { pendingStages, type JobView, type PhoneInfo } from '../../common/service/contract';
import { INITIAL_STATE, jobForPhone, reduce } from '../../renderer/src/state';

const JOB = 'job-00000001';
const phone: PhoneInfo = { serial: 'S1', modelId: 'CX600', modelName: 'Polycom CX600', firmware: '4.0', state: 'provisioning', virtual: true, jobId: JOB, signInKinds: ['pin', 'ntlm'], detail: null };
const job = (over: Partial<JobView> = {}): JobView => ({
  jobId: JOB,
  spec: { serial: 'S1', kind: 'pin', user: '5012' },
  modelId: 'CX600',
  state: 'running',
  stages: pendingStages(),
  resumedAfter: null,
  failure: null,
  result: null,
  createdAt: 1,
  updatedAt: 1,
  ...over,
});

describe('the window state', () => {
  it('applies stage and progress events to the job they belong to', () => {
    let s = reduce(INITIAL_STATE, { type: 'job', job: job() });
    s = reduce(s, { type: 'stage', event: { jobId: JOB, serial: 'S1', stage: 'vlan', status: 'started', summary: null, failure: null, at: 10 } });
    s = reduce(s, { type: 'stage', event: { jobId: JOB, serial: 'S1', stage: 'vlan', status: 'done', summary: 'VLAN 20 from LLDP-MED', failure: null, at: 25 } });
    s = reduce(s, { type: 'progress', event: { jobId: JOB, serial: 'S1', stage: 'check-update', message: 'Sending', bytes: 5, totalBytes: 10, fraction: 0.5, etaMs: 1000 } });
    const stages = s.jobs[JOB]!.stages;
    expect(stages[0]).toMatchObject({ status: 'done', summary: 'VLAN 20 from LLDP-MED', startedAt: 10, endedAt: 25 });
    expect(stages[3]).toMatchObject({ status: 'progress', progress: { bytes: 5, totalBytes: 10, fraction: 0.5, etaMs: 1000, message: 'Sending' } });
    s = reduce(s, { type: 'stage', event: { jobId: JOB, serial: 'S1', stage: 'check-update', status: 'done', summary: null, failure: null, at: 30 } });
    expect(s.jobs[JOB]!.stages[3]!.progress).toBeNull();
  });

  it('ignores events of a job it does not know, and never goes back to an older job view', () => {
    const s0 = reduce(INITIAL_STATE, { type: 'stage', event: { jobId: JOB, serial: 'S1', stage: 'vlan', status: 'started', summary: null, failure: null, at: 1 } });
    expect(s0).toBe(INITIAL_STATE);
    const s1 = reduce(INITIAL_STATE, { type: 'job', job: job({ state: 'signed-in', updatedAt: 5 }) });
    const s2 = reduce(s1, { type: 'job', job: job({ state: 'running', updatedAt: 4 }) });
    expect(s2.jobs[JOB]!.state).toBe('signed-in');
  });

  it('closes the pairing and credentials prompts when the job moves on', () => {
    let s = reduce(INITIAL_STATE, { type: 'pairing', event: { jobId: JOB, serial: 'S1', code: '123456', reason: 'start' } });
    s = reduce(s, { type: 'needs-credentials', event: { jobId: JOB, serial: 'S1', kind: 'pin', user: '5012', reason: 'first' } });
    s = reduce(s, { type: 'job', job: job({ state: 'running', updatedAt: 2 }) });
    expect(s.pairing).toEqual({});
    expect(s.credentials).toEqual({});
  });

  it('finds the job a phone shows: its current one, else its latest', () => {
    let s = reduce(INITIAL_STATE, { type: 'job', job: job({ jobId: 'job-older-001', createdAt: 1 }) });
    s = reduce(s, { type: 'job', job: job({ jobId: 'job-newer-002', createdAt: 2 }) });
    expect(jobForPhone(s, { ...phone, jobId: null })!.jobId).toBe('job-newer-002');
    expect(jobForPhone(s, { ...phone, jobId: 'job-older-001' })!.jobId).toBe('job-older-001');
  });
});
