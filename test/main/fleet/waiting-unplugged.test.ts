import { afterEach, describe, expect, it } from 'vitest';
import { startDemoService, type DemoService } from '../../../main/cli/demo-service';
import { virtualSpecs } from '../../../main/cli/virtual-lab';

/**
 * A phone unplugged in the middle of its firmware push (stage 4, a pool stage) must not hold a
 * pool slot while Tether waits for it to come back: with one slot, a second phone must sign in
 * through every pool stage while the first is still unplugged. Counts and order only; the
 * reattach timeout (long) is what would end the wait without the fix, the test's own limit is the
 * hang guard.
 */

let demo: DemoService | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

describe('a phone unplugged mid-push', () => {
  it('holds no pool slot while unplugged: another phone signs in meanwhile, and the push resumes after', async () => {
    const specs = virtualSpecs(['CX600', 'HP4120']);
    const [slow, quick] = specs.map((s) => s.serial!) as [string, string];
    // The cable drops 200 KB into the 512 KiB image and stays out until the test plugs it back.
    demo = await startDemoService({
      phones: specs,
      updateModels: ['CX600'],
      imageBytes: 512 * 1024,
      phoneFaults: { [slow]: { unplugAtByte: { byte: 200_000 } } },
      poolConcurrency: 1,
      policy: { reattachTimeoutMs: 100_000 },
    });
    const d = demo;
    const user = d.users[0]!;
    d.service.on('needsCredentials', (e) => void d.service.provideCredentials({ jobId: e.jobId, secret: user.pin }));
    const host = d.fleet.virtualPhones.find((p) => p.host?.serial === slow)!.host!;
    const unplugged = new Promise<void>((resolve) =>
      d.service.on('progress', (p) => p.serial === slow && p.stage === 'check-update' && p.message.startsWith('phone lost') && resolve()),
    );
    const order: string[] = [];
    d.service.on('job', (j) => j.state === 'signed-in' && order.push(j.spec.serial));

    const a = await d.service.startSignIn({ serial: slow, kind: 'pin', user: user.phoneNumber });
    await unplugged;
    await d.service.startSignIn({ serial: quick, kind: 'pin', user: user.phoneNumber });
    await new Promise<void>((resolve) => d.service.on('job', (j) => j.spec.serial === quick && j.state === 'signed-in' && resolve()));
    // The slow phone is still unplugged, its job still running (waiting for it), not failed.
    expect(host.device).toBeNull();
    const waiting = (await d.service.jobs({})).find((j) => j.jobId === a.jobId)!;
    expect(['running', 'waiting-for-phone']).toContain(waiting.state);

    host.plug();
    await d.service.idle();
    expect(order).toEqual([quick, slow]);
    const done = (await d.service.jobs({})).find((j) => j.jobId === a.jobId)!;
    expect(done.state).toBe('signed-in');
    expect(d.service.stats.poolSlots.peak).toBe(1);
  }, 120_000);
});
