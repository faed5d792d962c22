import { afterEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../../common/service/contract';
import type { FaultPlan } from '../../../native/virtual';
import { startDemoService, type DemoService } from '../../../main/cli/demo-service';
import { virtualSpecs } from '../../../main/cli/virtual-lab';

/**
 * One misbehaving phone among fifteen good ones on one hub: the fifteen sign in, all sixteen run at
 * once, and the bad one ends with a typed error instead of hanging. Asserted by counts, never by time.
 */

let demo: DemoService | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

const MODELS = ['CX600', 'HP4120', 'CX3000', 'AASTRA6725IP'];

type Variant = { name: string; faults: FaultPlan; loop?: boolean };
const variants: Variant[] = [
  // Stops answering after a few frames of its first session.
  { name: 'stalls', faults: { stallAfterFrames: { direction: 'in', frames: 6 } } },
  // Garbage: frames with flipped bits, again and again.
  { name: 'sends garbage', faults: { corruptFrame: [2, 3, 4, 5, 6, 7, 8, 9].map((index) => ({ direction: 'in' as const, index })) } },
  // Its cable drops after a few frames each time it comes back.
  { name: 'keeps unplugging', faults: { unplugAfterFrames: { frames: 8, direction: 'in' } }, loop: true },
];

describe('one bad phone among sixteen', () => {
  it.each(variants)('the bad phone $name: the fifteen others sign in and the bad one fails, typed', async ({ faults, loop }) => {
    const specs = virtualSpecs(Array.from({ length: 16 }, (_, i) => MODELS[i % MODELS.length]!));
    const bad = specs[7]!.serial!;
    demo = await startDemoService({
      phones: specs,
      phoneFaults: { [bad]: faults },
      replugAfterMs: 20,
      policy: { reattachTimeoutMs: 4000, registrationTimeoutMs: 15_000, connectTimeoutMs: 3000 },
    });
    const d = demo;
    if (loop) {
      const host = d.fleet.virtualPhones.find((p) => p.host?.serial === bad)!.host!;
      host.onAttach(() => host.faults.set(faults));
    }
    const user = d.users[0]!;
    const finals: JobView[] = [];
    d.service.on('job', (j) => ['signed-in', 'failed', 'cancelled'].includes(j.state) && finals.push(j));
    d.service.on('needsCredentials', (e) => void d.service.provideCredentials({ jobId: e.jobId, secret: user.pin }));
    for (const s of specs) await d.service.startSignIn({ serial: s.serial!, kind: 'pin', user: user.phoneNumber });
    await d.service.idle();

    const good = finals.filter((j) => j.spec.serial !== bad);
    expect(good.map((j) => j.state)).toEqual(Array(15).fill('signed-in'));
    // The bad phone's job ends too, failed with a typed USB or protocol error (not a hang).
    const badJob = finals.find((j) => j.spec.serial === bad)!;
    expect(badJob.state).toBe('failed');
    expect(badJob.failure?.code).toMatch(/^(USB|PROTOCOL)_/);
    expect(finals).toHaveLength(16);
    // All sixteen ran at once (the queue never held the good ones back).
    expect(d.service.stats.queue.peak).toBe(16);
  }, 180_000);
});

describe('another program holding a phone', () => {
  it('is a phone state the person sees (in-use), not a failed job', async () => {
    const specs = virtualSpecs(['CX600', 'HP4120']);
    demo = await startDemoService({ phones: specs, phoneFaults: { [specs[1]!.serial!]: { interfaceBusy: true } } });
    const phones = await demo.service.listPhones({});
    expect(phones.map((p) => [p.serial, p.state, p.detail])).toEqual([
      [specs[0]!.serial, 'ready', null],
      [specs[1]!.serial, 'in-use', 'in use by another program'],
    ]);
    expect(await demo.service.jobs({})).toEqual([]);
  }, 60_000);
});
