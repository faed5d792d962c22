import { afterEach, describe, expect, it } from 'vitest';
import { startDemoService, type DemoService } from '../../../main/cli/demo-service';

/**
 * A phone whose person has not typed the PIN yet must not hold a pool slot: stage 7 used to keep
 * its slot while it waited for a human, so as many slow typists as slots (8) stopped every other
 * phone's pool stages. With one slot, a second phone must sign in while the first still waits.
 * Counts and order only; the test's own time limit is the hang guard.
 */

let demo: DemoService | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

describe('a phone waiting for its person', () => {
  it('holds no pool slot: another phone signs in meanwhile, through every pool stage', async () => {
    demo = await startDemoService({ models: ['CX600', 'HP4120'], poolConcurrency: 1 });
    const d = demo;
    const user = d.users[0]!;
    const [slow, quick] = d.serials as [string, string];
    const asked = new Map<string, () => void>();
    const waiting = new Promise<void>((resolve) =>
      d.service.on('needsCredentials', (e) => {
        if (e.serial === quick) return void d.service.provideCredentials({ jobId: e.jobId, secret: user.pin });
        asked.set(e.jobId, () => void d.service.provideCredentials({ jobId: e.jobId, secret: user.pin }));
        resolve();
      }),
    );
    const order: string[] = [];
    d.service.on('job', (j) => j.state === 'signed-in' && order.push(j.spec.serial));

    const a = await d.service.startSignIn({ serial: slow, kind: 'pin', user: user.phoneNumber });
    await waiting;
    await d.service.startSignIn({ serial: quick, kind: 'pin', user: user.phoneNumber });
    // The quick phone runs stages 3–8 (all pool stages) while the slow one's person has not answered.
    await new Promise<void>((resolve) => d.service.on('job', (j) => j.spec.serial === quick && j.state === 'signed-in' && resolve()));
    expect((await d.service.jobs({})).find((j) => j.jobId === a.jobId)!.state).toBe('needs-credentials');
    asked.get(a.jobId)!();
    await d.service.idle();
    expect(order).toEqual([quick, slow]);
    expect(d.service.stats.poolSlots.peak).toBe(1);
  }, 120_000);
});
