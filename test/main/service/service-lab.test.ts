import { afterEach, describe, expect, it } from 'vitest';
import type { JobView, ServiceEvents, StageEventView } from '../../../common/service/contract';
import { startDemoService, type DemoService } from '../../../main/cli/demo-service';

let demo: DemoService | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

interface Seen {
  stages: StageEventView[];
  jobs: JobView[];
  needs: ServiceEvents['needsCredentials'][];
  pairing: ServiceEvents['pairing'][];
  progress: ServiceEvents['progress'][];
}

function watch(d: DemoService, secret: (serial: string) => string): Seen {
  const seen: Seen = { stages: [], jobs: [], needs: [], pairing: [], progress: [] };
  d.service.on('stage', (e) => seen.stages.push(e));
  d.service.on('job', (e) => seen.jobs.push(e));
  d.service.on('pairing', (e) => seen.pairing.push(e));
  d.service.on('progress', (e) => seen.progress.push(e));
  d.service.on('needsCredentials', (e) => {
    seen.needs.push(e);
    void d.service.provideCredentials({ jobId: e.jobId, secret: secret(e.serial) });
  });
  return seen;
}

const finals = (seen: Seen) => seen.jobs.filter((j) => j.state === 'signed-in' || j.state === 'failed' || j.state === 'cancelled');

describe('the service signs virtual phones in against the in-process lab', () => {
  it('three models at once, one with a firmware update: nine stages each, certificate and chain in the result', async () => {
    demo = await startDemoService({ models: ['CX600', 'HP4120', 'CX3000'], updateModels: ['CX600'], imageBytes: 64 * 1024, progressIntervalMs: 0 });
    const alice = demo.users[0]!;
    const seen = watch(demo, () => alice.pin);
    for (const serial of demo.serials) await demo.service.startSignIn({ serial, kind: 'pin', user: alice.phoneNumber });
    await demo.service.idle();
    const done = finals(seen);
    expect(done.map((j) => [j.spec.serial, j.state, j.failure?.code ?? null]).sort()).toEqual(demo.serials.map((s) => [s, 'signed-in', null]).sort());
    for (const j of done) {
      // Only the CX600 is offered newer firmware; the others skip stage 4 and say why.
      const four = j.spec.serial.startsWith('CX600') ? 'done' : 'skipped';
      expect(j.stages.map((s) => s.status)).toEqual(['done', 'done', 'done', four, 'done', 'done', 'done', 'done', 'done']);
      expect(j.result!.certificatePem).toContain('BEGIN CERTIFICATE');
      expect(j.result!.chainPem.length).toBeGreaterThan(0);
      expect(j.result!.sipUri).toBe(alice.sipUri);
    }
    // The CX600's push was reported as progress with bytes; every event carries its job id.
    expect(seen.progress.some((p) => p.serial.startsWith('CX600') && p.stage === 'check-update' && p.bytes !== undefined)).toBe(true);
    expect(seen.stages.every((e) => e.jobId.length > 0)).toBe(true);
    expect(seen.needs.every((n) => n.reason === 'first')).toBe(true);
    // Pairing after the firmware reboot is an event too.
    expect(seen.pairing.filter((p) => p.serial.startsWith('CX600')).map((p) => p.reason)).toEqual(['start', 'after-reboot']);
    const phones = await demo.service.listPhones({});
    expect(phones.map((p) => p.state)).toEqual(['signed-in', 'signed-in', 'signed-in']);
    const history = await demo.service.history({ serial: demo.serials[0]! });
    expect(history.map((h) => h.kind).sort()).toEqual(['firmware-change', 'sign-in']);
  }, 120_000);
});
