import { afterEach, describe, expect, it } from 'vitest';
import type { FaultName } from '../../../lab';
import type { JobView, ServiceEvents, StageEventView } from '../../../common/service/contract';
import { registrationError } from '../../../main/bootstrap/stages';
import { startDemoService, type DemoService, type DemoServiceOptions } from '../../../main/cli/demo-service';

/** The stage table driven through the service, with virtual phones against the in-process lab. */

let demo: DemoService | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

interface Run {
  stages: StageEventView[];
  needs: ServiceEvents['needsCredentials'][];
  progress: ServiceEvents['progress'][];
  pairing: ServiceEvents['pairing'][];
  final: JobView;
}

async function start(options: DemoServiceOptions): Promise<DemoService> {
  demo = await startDemoService({ imageBytes: 96 * 1024, progressIntervalMs: 0, ...options, policy: { registrationTimeoutMs: 8000, ...options.policy } });
  return demo;
}

async function signIn(d: DemoService, spec: { serial?: string; kind?: 'pin' | 'ntlm'; network?: 'internal' | 'external' } = {}, answer?: (e: ServiceEvents['needsCredentials']) => void): Promise<Run> {
  const user = d.users[0]!;
  const serial = spec.serial ?? d.serials[0]!;
  const kind = spec.kind ?? 'pin';
  const run: Omit<Run, 'final'> & { final?: JobView } = { stages: [], needs: [], progress: [], pairing: [] };
  const offs = [
    d.service.on('stage', (e) => e.serial === serial && run.stages.push(e)),
    d.service.on('progress', (e) => e.serial === serial && run.progress.push(e)),
    d.service.on('pairing', (e) => e.serial === serial && run.pairing.push(e)),
    d.service.on('needsCredentials', (e) => {
      if (e.serial !== serial) return;
      run.needs.push(e);
      if (answer) answer(e);
      else void d.service.provideCredentials({ jobId: e.jobId, secret: kind === 'pin' ? user.pin : user.password });
    }),
    d.service.on('job', (j) => {
      if (j.spec.serial === serial && ['signed-in', 'failed', 'cancelled'].includes(j.state)) run.final = j;
    }),
  ];
  await d.service.startSignIn(
    kind === 'pin'
      ? { serial, kind, user: user.phoneNumber, ...(spec.network ? { network: spec.network } : {}) }
      : { serial, kind, user: user.ntlm, sipUri: user.sipUri, ...(spec.network ? { network: spec.network } : {}) },
  );
  await d.service.idle();
  for (const off of offs) off();
  return run as Run;
}

const statuses = (j: JobView) => j.stages.map((s) => s.status).join(' ');

describe('every lab fault ends failed at its stage, with its troubleshooting entry', () => {
  const table: [FaultName, string, string][] = [
    ['srv-missing', 'logon', 'REGISTRAR_UNREACHABLE'],
    ['option43-wrong', 'ca-chain', 'CHAIN_SERVICE_UNREACHABLE'],
    ['chain-download-off', 'ca-chain', 'CHAIN_DOWNLOAD_OFF'],
    ['server-cert-expired', 'ca-chain', 'CHAIN_SERVER_MISMATCH'],
    ['server-cert-wrong-name', 'ca-chain', 'CHAIN_SERVER_MISMATCH'],
    ['intermediate-missing', 'ca-chain', 'CHAIN_INTERMEDIATE_MISSING'],
    ['account-locked', 'auth', 'WEBTICKET_ACCOUNT_LOCKED'],
    ['publish-store-unavailable', 'certificate', 'CERTPROV_PUBLISH_FAILED'],
    ['registrar-unreachable', 'logon', 'REGISTRAR_UNREACHABLE'],
    ['device-update-500', 'check-update', 'UPDATE_SERVICE_ERROR'],
  ];
  it.each(table)('%s → stage %s, %s', async (fault, stage, code) => {
    const d = await start({ models: ['CX600'], labFaults: [fault], updateModels: fault === 'device-update-500' ? ['CX600'] : [] });
    const r = await signIn(d);
    expect(r.final.state).toBe('failed');
    expect(r.final.failure).toMatchObject({ code, stage });
    expect(r.final.failure!.userSees.length).toBeGreaterThan(0);
    expect(r.final.failure!.adminFix.length).toBeGreaterThan(0);
    const failed = r.stages.filter((e) => e.status === 'failed');
    expect(failed.map((e) => [e.stage, e.failure?.code])).toEqual([[stage, code]]);
    // Nothing after the failed stage started.
    const order = r.final.stages.map((s) => s.stage);
    expect(r.final.stages.slice(order.indexOf(stage as never) + 1).every((s) => s.status === 'pending')).toBe(true);
  }, 60_000);
});

describe('the stage table', () => {
  it('a CX700 asked to sign in with a PIN fails at stage 7 with PHONE_PIN_UNSUPPORTED, and no PIN is asked for', async () => {
    const d = await start({ models: ['CX700'] });
    const r = await signIn(d);
    expect(r.final.failure).toMatchObject({ code: 'PHONE_PIN_UNSUPPORTED', stage: 'auth' });
    expect(r.needs).toEqual([]);
  }, 60_000);

  it('a CX700 with Windows credentials signs in', async () => {
    const d = await start({ models: ['CX700'] });
    const r = await signIn(d, { kind: 'ntlm' });
    expect(r.final.state).toBe('signed-in');
    expect(r.final.result?.sipUri).toBe(d.users[0]!.sipUri);
  }, 60_000);

  it('a second sign-in skips and says why: firmware already the offered version; certificate sign-in with no credentials', async () => {
    const d = await start({ models: ['CX600'], updateModels: ['CX600'] });
    const first = await signIn(d);
    expect(statuses(first.final)).toBe('done done done done done done done done done');
    const second = await signIn(d);
    expect(second.final.state).toBe('signed-in');
    expect(statuses(second.final)).toBe('done done done skipped done done skipped skipped done');
    const skipped = second.final.stages.filter((s) => s.status === 'skipped');
    expect(skipped[0]!.summary).toMatch(/already the approved firmware/);
    expect(skipped[1]!.summary).toMatch(/certificate sign-in/);
    expect(second.needs).toEqual([]);
    expect(second.final.result?.certificatePem).toBe(first.final.result?.certificatePem);
  }, 90_000);

  it('pairing refused: PAIRING_REFUSED before stage 1, no credentials asked', async () => {
    const d = await start({ models: ['CX600'], autoConfirmPairing: false });
    d.service.on('pairing', (e) => void d.service.confirmPairing({ jobId: e.jobId, matches: false }));
    const r = await signIn(d);
    expect(r.final.failure?.code).toBe('PAIRING_REFUSED');
    expect(r.needs).toEqual([]);
    expect(r.pairing.map((p) => p.reason)).toEqual(['start']);
    expect(r.stages.filter((s) => s.status === 'done')).toEqual([]);
  }, 60_000);

  it('cancel during the firmware push stops at a resumable offset; retry resumes the push there and asks for the credentials again', async () => {
    const d = await start({ models: ['CX600'], updateModels: ['CX600'], imageBytes: 512 * 1024 });
    let cancelled = false;
    const off = d.service.on('progress', (p) => {
      if (!cancelled && p.stage === 'check-update' && (p.bytes ?? 0) > 100_000) {
        cancelled = true;
        void d.service.cancel({ jobId: p.jobId });
      }
    });
    const first = await signIn(d);
    off();
    expect(first.final.state).toBe('cancelled');
    expect(first.final.failure?.code).toBe('CANCELLED');
    // The phone kept its transfer open (what it holds arrives over the link after the cancel).
    expect(d.fleet.virtualPhones[0]!.host!.phone.firmwareStatus().transfer?.size).toBe(512 * 1024);

    const user = d.users[0]!;
    const needs: ServiceEvents['needsCredentials'][] = [];
    d.service.on('needsCredentials', (e) => {
      needs.push(e);
      void d.service.provideCredentials({ jobId: e.jobId, secret: user.pin });
    });
    const progress: ServiceEvents['progress'][] = [];
    d.service.on('progress', (p) => progress.push(p));
    let final: JobView | undefined;
    d.service.on('job', (j) => j.state === 'signed-in' && (final = j));
    expect(await d.service.retry({ jobId: first.final.jobId })).toEqual({ jobId: first.final.jobId });
    await d.service.idle();
    expect(final?.state).toBe('signed-in');
    // The push resumed where the phone stopped, not from zero.
    const resumedAt = progress.map((p) => /resumed at (\d+)/.exec(p.message)?.[1]).find((x) => x !== undefined);
    expect(Number(resumedAt)).toBeGreaterThan(0);
    expect(Number(resumedAt)).toBeLessThan(512 * 1024);
    expect(needs.map((n) => n.reason)).toEqual(['resumed']);
  }, 90_000);

  it('a PIN the pool refuses is asked for again (reason rejected); the right one signs in', async () => {
    const d = await start({ models: ['CX600'] });
    const user = d.users[0]!;
    const r = await signIn(d, {}, (e) => void d.service.provideCredentials({ jobId: e.jobId, secret: e.reason === 'first' ? '00000' : user.pin }));
    expect(r.needs.map((n) => n.reason)).toEqual(['first', 'rejected']);
    expect(r.final.state).toBe('signed-in');
  }, 60_000);

  it('a PIN refused every time ends failed at stage 7 after the policy\'s attempts', async () => {
    const d = await start({ models: ['CX600'], policy: { credentialAttempts: 2 } });
    const r = await signIn(d, {}, (e) => void d.service.provideCredentials({ jobId: e.jobId, secret: '00000' }));
    expect(r.needs.map((n) => n.reason)).toEqual(['first', 'rejected']);
    expect(r.final.failure).toMatchObject({ code: 'WEBTICKET_PIN_REJECTED', stage: 'auth' });
  }, 60_000);

  it('external sign-in of a phone that never signed in internally: EXTERNAL_NEEDS_INTERNAL_SIGN_IN at stage 3', async () => {
    const d = await start({ models: ['CX600'] });
    const r = await signIn(d, { network: 'external' });
    expect(r.final.failure).toMatchObject({ code: 'EXTERNAL_NEEDS_INTERNAL_SIGN_IN', stage: 'find-update' });
    expect(r.needs).toEqual([]);
  }, 60_000);
});

describe('registrationError', () => {
  const base = { state: 'failed' as const, sipUri: 'sip:a@b.test', registrar: 'pool.b.test', provisioning: null };
  it('takes the registrar code the phone named, else maps the SIP status', () => {
    expect(registrationError({ ...base, sipStatus: null, diagnostics: 'REGISTRAR_TLS_FAILED: bad certificate' }).code).toBe('REGISTRAR_TLS_FAILED');
    expect(registrationError({ ...base, sipStatus: 401, diagnostics: null }).code).toBe('REGISTRAR_CERT_REQUIRED');
    expect(registrationError({ ...base, sipStatus: 403, diagnostics: 'ms-diagnostics: 1002' }).code).toBe('REGISTRAR_FORBIDDEN');
    expect(registrationError({ ...base, sipStatus: 500, diagnostics: null }).code).toBe('REGISTRAR_REJECTED');
    expect(registrationError({ ...base, sipStatus: null, diagnostics: 'socket closed' }).code).toBe('REGISTRAR_UNREACHABLE');
    // A code from another area is not taken at face value.
    expect(registrationError({ ...base, sipStatus: 403, diagnostics: 'INTERNAL: x' }).code).toBe('REGISTRAR_FORBIDDEN');
    expect(registrationError({ ...base, sipStatus: 403, diagnostics: null }).stage).toBe('logon');
  });
});
