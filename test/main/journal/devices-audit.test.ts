import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { Journal } from '../../../main/journal';

let root: string;
let clock: number;
let journal: Journal;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tether-journal-'));
  clock = 5_000;
  journal = await Journal.open({ dir: join(root, 'data'), now: () => clock });
});
afterEach(async () => {
  journal.close();
  await rm(root, { recursive: true, force: true });
});

describe('devices', () => {
  it('keeps the first sighting and updates the last, the model and a known firmware', () => {
    journal.seenDevice({ serial: 'CX600-1', modelId: 'CX600', firmware: '4.0.7577.4100' });
    clock = 6_000;
    const d = journal.seenDevice({ serial: 'CX600-1', modelId: 'CX600', firmware: null });
    expect(d).toMatchObject({ firstSeen: 5_000, lastSeen: 6_000, firmware: '4.0.7577.4100', signedInInternally: false, internalFacts: null, lastNetwork: null });
    clock = 7_000;
    expect(journal.seenDevice({ serial: 'CX600-1', modelId: 'CX600', firmware: '4.0.7577.4455' }).firmware).toBe('4.0.7577.4455');
    journal.seenDevice({ serial: 'AA-2', modelId: 'AASTRA6725IP', firmware: null });
    expect(journal.devices().map((x) => x.serial)).toEqual(['AA-2', 'CX600-1']);
    expect(journal.device('nope')).toBeNull();
  });

  it('remembers an internal sign-in and its public facts; an external one keeps them', () => {
    journal.seenDevice({ serial: 'CX600-1', modelId: 'CX600', firmware: null });
    const facts = { externalUpdateUrl: 'https://ext.contoso.com/RequestHandlerExt/ucdevice.upx', edge: ['sip.contoso.com'] };
    clock = 8_000;
    expect(journal.markSignedIn({ serial: 'CX600-1', network: 'internal', facts })).toMatchObject({
      signedInInternally: true,
      internalSignInAt: 8_000,
      internalFacts: facts,
      lastNetwork: 'internal',
    });
    clock = 9_000;
    expect(journal.markSignedIn({ serial: 'CX600-1', network: 'external', facts: { ignored: true } })).toMatchObject({
      internalSignInAt: 8_000,
      internalFacts: facts,
      lastSignInAt: 9_000,
      lastNetwork: 'external',
    });
    expect(() => journal.markSignedIn({ serial: 'GHOST', network: 'internal', facts: {} })).toThrow(expect.objectContaining({ code: 'JOURNAL_NOT_FOUND' }));
  });
});

describe('audit and history', () => {
  it('keeps entries in time order with their details; history is the people view for one phone', () => {
    journal.audit({ kind: 'kiosk-start', summary: 'kiosk started' });
    clock = 5_001;
    journal.audit({ kind: 'sign-in', serial: 'CX600-1', jobId: 'job-00000001', summary: 'signed in as sip:alice@contoso.com', detail: { network: 'internal' } });
    clock = 5_002;
    journal.audit({ kind: 'firmware-change', serial: 'CX600-1', summary: '4100 → 4455', detail: { from: '4100', to: '4455' } });
    journal.audit({ kind: 'wipe', serial: 'OTHER', summary: 'wiped' });
    expect(journal.history('CX600-1')).toEqual([
      { at: 5_001, kind: 'sign-in', serial: 'CX600-1', jobId: 'job-00000001', summary: 'signed in as sip:alice@contoso.com' },
      { at: 5_002, kind: 'firmware-change', serial: 'CX600-1', jobId: null, summary: '4100 → 4455' },
    ]);
    expect(journal.auditTrail({ jobId: 'job-00000001' })[0]!.detail).toEqual({ network: 'internal' });
    expect(journal.auditTrail()).toHaveLength(4);
  });

  it('refuses an unknown kind', () => {
    expect(() => journal.audit({ kind: 'reboot' as never, summary: 'x' })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

describe('no secret reaches the journal', () => {
  const refused = (fn: () => unknown): TetherError => {
    try {
      fn();
    } catch (e) {
      if (TetherError.is(e)) return e;
      throw e;
    }
    throw new Error('not refused');
  };

  it('refuses every kind of record holding a secret-named field, naming the field and not the value', () => {
    journal.seenDevice({ serial: 'CX600-1', modelId: 'CX600', firmware: null });
    journal.createJob({ jobId: 'job-00000001', spec: { serial: 'CX600-1', kind: 'pin', user: '101' }, policy: {} });
    const canary = 'CANARY-7319';
    const attempts: Array<() => unknown> = [
      () => journal.createJob({ jobId: 'job-00000002', spec: { serial: 'CX600-1', kind: 'pin', user: '101', pin: canary } as never, policy: {} }),
      () => journal.createJob({ jobId: 'job-00000003', spec: { serial: 'CX600-1', kind: 'pin', user: '101' }, policy: { defaults: { password: canary } } }),
      () => journal.recordStage('job-00000001', { stage: 'auth', status: 'done', facts: { auth: { webTicket: canary } }, summary: 's', startedAt: 1, endedAt: 2 }),
      () => journal.recordStage('job-00000001', { stage: 'auth', status: 'done', facts: { list: [{ userPin: canary }] }, summary: 's', startedAt: 1, endedAt: 2 }),
      () =>
        journal.recordStage('job-00000001', {
          stage: 'auth',
          status: 'failed',
          facts: {},
          summary: 's',
          startedAt: 1,
          endedAt: 2,
          error: { type: 'TetherError', code: 'INTERNAL', stage: 'auth', message: 'm', detail: { client_secret: canary } },
        }),
      () => journal.setJobState('job-00000001', 'failed', { type: 'TetherError', code: 'INTERNAL', stage: null, message: 'm', detail: { pinCode: canary } }),
      () => journal.markSignedIn({ serial: 'CX600-1', network: 'internal', facts: { privateKeyPem: canary } }),
      () => journal.audit({ kind: 'sign-in', summary: 's', detail: { Password: canary } }),
    ];
    for (const attempt of attempts) {
      const err = refused(attempt);
      expect(err.code).toBe('JOURNAL_SECRET_REFUSED');
      expect(err.message).not.toContain(canary);
      expect(JSON.stringify(err.toJSON())).not.toContain(canary);
    }
    // Nothing of the refused records was kept.
    expect(journal.jobs().map((j) => j.jobId)).toEqual(['job-00000001']);
    expect(journal.job('job-00000001')).toMatchObject({ stages: [], error: null, state: 'queued' });
    expect(journal.device('CX600-1')!.signedInInternally).toBe(false);
    expect(journal.auditTrail()).toEqual([]);
  });

  it('keeps facts whose names only mention a secret word as a qualifier', () => {
    journal.createJob({ jobId: 'job-00000001', spec: { serial: 'CX600-1', kind: 'pin', user: '101' }, policy: { pinnedFingerprints: ['ab'] } });
    journal.recordStage('job-00000001', {
      stage: 'auth',
      status: 'done',
      facts: { webTicketUrl: 'https://pool/WebTicket', ticketExpires: '2026-12-05T20:00:00Z', method: 'pin', hostKeyFingerprint: 'ab' },
      summary: 'web ticket for sip:a@b',
      startedAt: 1,
      endedAt: 2,
    });
    expect(journal.job('job-00000001')!.stages[0]!.facts).toMatchObject({ webTicketUrl: 'https://pool/WebTicket', method: 'pin' });
  });
});
