import { join } from 'node:path';
import { startDemoService } from '../../main/cli/demo-service';
import { virtualSpecs } from '../../main/cli/virtual-lab';
import { Journal } from '../../main/journal';
import { CANARY_PASSWORD, CANARY_PIN, CANARY_USER } from './canary-lab';

/**
 * The kill test's child (test/main/service/kill.test.ts): Tether with the lab and the virtual
 * phones in one process, on a fixed folder and fixed ports, so a SIGKILLed run can be started
 * again and find the same journal, phones and pool. It resumes what the journal has unfinished,
 * creates the jobs not created yet, and prints one JSON line per event (after the journal write).
 */

const dir = process.env.KILL_DIR!;
const ports = JSON.parse(process.env.KILL_PORTS!) as { http: number; https: number; dns: number; registrar: number };
const MODELS = ['CX600', 'HP4120', 'CX700', 'CX3000'];
const out = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

const journal = await Journal.open({ dir: join(dir, 'data') });
const phones = virtualSpecs([...MODELS, ...MODELS]);
// The parent put the CX600's newer firmware into the lab's Device Update store once.
const demo = await startDemoService({
  phones,
  labDir: join(dir, 'lab'),
  labPorts: ports,
  phoneStoreDir: join(dir, 'data', 'virtual-phones'),
  journal,
  progressIntervalMs: 0,
  policy: { registrationTimeoutMs: 20_000, reattachTimeoutMs: 20_000 },
});
out({ type: 'ready' });
const { service } = demo;
service.on('stage', (e) => out({ type: 'stage', jobId: e.jobId, serial: e.serial, stage: e.stage, status: e.status, code: e.failure?.code ?? null }));
service.on('needsCredentials', (e) => {
  out({ type: 'needs', jobId: e.jobId, reason: e.reason });
  void service.provideCredentials({ jobId: e.jobId, secret: e.kind === 'pin' ? CANARY_PIN : CANARY_PASSWORD });
});
service.on('job', (j) => {
  if (['signed-in', 'failed', 'cancelled'].includes(j.state)) out({ type: 'final', jobId: j.jobId, serial: j.spec.serial, state: j.state, code: j.failure?.code ?? null });
});
for (const r of journal.jobs({ unfinishedOnly: true })) out({ type: 'resume', jobId: r.jobId, lastCompleted: r.lastCompleted });
service.resumeUnfinished();
const known = new Set(journal.jobs().map((j) => j.spec.serial));
for (const p of phones) {
  if (known.has(p.serial!)) continue;
  const ntlm = p.model === 'CX700';
  const { jobId } = await service.startSignIn(
    ntlm ? { serial: p.serial!, kind: 'ntlm', user: CANARY_USER.ntlm, sipUri: CANARY_USER.sipUri } : { serial: p.serial!, kind: 'pin', user: CANARY_USER.extension },
  );
  out({ type: 'created', jobId, serial: p.serial });
}
await service.idle();
out({ type: 'all-done' });
await demo.stop();
journal.close();
