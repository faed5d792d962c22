import { afterEach, describe, expect, it } from 'vitest';
import type { JobView, SignInSpec } from '../../../common/service/contract';
import { parseInternalSignInFacts } from '../../../main/pool/external';
import { nextVersion, startDemoService, type DemoService } from '../../../main/cli/demo-service';
import { MemoryJournal } from '../../../main/service/memory-journal';
import { BUILT_IN_CATALOGUE, findModel } from '../../../native/usb/catalogue';

/**
 * Internal and external sign-in through the service, with a virtual phone and the in-process lab
 * serving both views (docs/pool/external.md, docs/service.md): the phone signs in at the office,
 * is carried home, and signs in again through the edge with only the external DNS to ask.
 */

let demo: DemoService | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

async function run(d: DemoService, spec: Omit<SignInSpec, 'serial' | 'kind' | 'user'>, serial = d.serials[0]!): Promise<{ final: JobView; asked: number }> {
  const user = d.users[0]!;
  let asked = 0;
  const offCreds = d.service.on('needsCredentials', (e) => {
    asked++;
    void d.service.provideCredentials({ jobId: e.jobId, secret: user.pin });
  });
  let final: JobView | undefined;
  const offJob = d.service.on('job', (j) => {
    if (j.state === 'signed-in' || j.state === 'failed' || j.state === 'cancelled') final = j;
  });
  try {
    await d.service.startSignIn({ serial, kind: 'pin', user: user.phoneNumber, ...spec });
    await d.service.idle();
  } finally {
    offCreds();
    offJob();
  }
  return { final: final!, asked };
}

/** The internal view's names, gone: from here on only the external DNS can answer. */
function dropInternalDns(d: DemoService): void {
  const domain = d.lab.context.domain;
  for (const name of [d.lab.context.poolFqdn, `ucupdates-r2.${domain}`, `sip.${domain}`, `sipinternal.${domain}`, `sipexternal.${domain}`, `_sipinternaltls._tcp.${domain}`, `_sipinternal._tcp.${domain}`, `_sip._tls.${domain}`]) {
    d.lab.context.dns.remove(name);
  }
}

describe('external sign-in with a phone', () => {
  it('signs in inside, then from home through the edge using only the external DNS', async () => {
    const journal = new MemoryJournal();
    demo = await startDemoService({ models: ['CX600'], view: 'both', journal, progressIntervalMs: 0 });
    const serial = demo.serials[0]!;
    const inside = await run(demo, { network: 'internal' });
    expect(inside.final.state).toBe('signed-in');

    // The journal holds what the external path needs, from the phone's own registration report.
    const facts = parseInternalSignInFacts(journal.device(serial)!.internalFacts);
    expect(facts.deviceUpdateExternalUrl).toBe(`${demo.lab.external!.httpsBase}/RequestHandlerExt/ucdevice.upx`);
    expect(facts.chain.rootFingerprint).toBe(demo.lab.ca.rootFingerprint);
    expect(facts.certificate).not.toBeNull();
    expect(facts.sipUri).toBe(demo.users[0]!.sipUri);

    demo.moveTo('home');
    dropInternalDns(demo);
    const outside = await run(demo, { network: 'external' });
    expect(outside.final.failure).toBeNull();
    expect(outside.final.state).toBe('signed-in');
    const stages = Object.fromEntries(outside.final.stages.map((s) => [s.stage, s]));
    expect(stages['find-update']!.summary).toContain(new URL(demo.lab.external!.httpsBase).hostname);
    // RequestHandlerExt answers only the phone's own certificate, whose key stays on the phone.
    expect(stages['check-update']).toMatchObject({ status: 'skipped' });
    expect(stages['check-update']!.summary).toMatch(/anonymous access is not supported/);
    expect(stages['ca-chain']!.summary).toMatch(/saved at the internal sign-in/);
    // The certificate from the office still names this user: certificate sign-in, no PIN asked.
    expect(stages.auth).toMatchObject({ status: 'skipped' });
    expect(outside.asked).toBe(0);
    expect(stages.logon!.summary).toMatch(/signed in from outside/);
    // The phone registered at the edge's name (the external SIP records), not the pool's.
    expect(outside.final.result!.registrar).not.toBe(demo.lab.context.poolFqdn);
    expect(outside.final.result!.registrar).toMatch(new RegExp(`\\.${demo.lab.context.domain.replace(/\./g, '\\.')}$`));
    const history = await demo.service.history({ serial });
    expect(history.filter((h) => h.kind === 'sign-in').map((h) => h.summary)).toEqual(expect.arrayContaining([expect.stringContaining('(internal)'), expect.stringContaining('(external)')]));
  }, 120_000);

  it('a phone that never signed in inside fails at stage 3 with its troubleshooting entry, no PIN asked', async () => {
    demo = await startDemoService({ models: ['CX600'], view: 'both', progressIntervalMs: 0 });
    demo.moveTo('home');
    const r = await run(demo, { network: 'external' });
    expect(r.final.state).toBe('failed');
    expect(r.final.failure).toMatchObject({ code: 'EXTERNAL_NEEDS_INTERNAL_SIGN_IN', stage: 'find-update' });
    expect(r.final.failure!.userCan).toMatch(/office/);
    expect(r.final.failure!.adminFix.length).toBeGreaterThan(0);
    expect(r.asked).toBe(0);
  }, 60_000);

  it('saved facts that were tampered with (a root fingerprint not that of the saved root): EXTERNAL_FACTS_INVALID at stage 3', async () => {
    const journal = new MemoryJournal();
    demo = await startDemoService({ models: ['CX600'], view: 'both', journal, progressIntervalMs: 0 });
    const serial = demo.serials[0]!;
    expect((await run(demo, { network: 'internal' })).final.state).toBe('signed-in');
    const saved = parseInternalSignInFacts(journal.device(serial)!.internalFacts);
    const forged = { ...saved, chain: { ...saved.chain, rootFingerprint: saved.chain.fingerprints[0]! } };
    journal.markSignedIn({ serial, network: 'internal', facts: JSON.parse(JSON.stringify(forged)) as typeof forged });
    demo.moveTo('home');
    const r = await run(demo, { network: 'external' });
    expect(r.final.failure).toMatchObject({ code: 'EXTERNAL_FACTS_INVALID', stage: 'find-update' });
    expect(r.asked).toBe(0);
  }, 60_000);

  it('without an external DNS the service says so at stage 3 (EXTERNAL_PATH_UNAVAILABLE)', async () => {
    demo = await startDemoService({ models: ['CX600'], progressIntervalMs: 0 });
    expect(() => demo!.moveTo('home')).toThrow(/external view/);
    const inside = await run(demo, { network: 'internal' });
    expect(inside.final.state).toBe('signed-in');
    const r = await run(demo, { network: 'external' });
    expect(r.final.failure).toMatchObject({ code: 'EXTERNAL_PATH_UNAVAILABLE', stage: 'find-update' });
  }, 60_000);
});

describe("the vendor's fallback", () => {
  it('Device Update not found: signs in first, then updates with the in-band address and signs in again', async () => {
    const journal = new MemoryJournal();
    demo = await startDemoService({ models: ['CX600'], updateModels: ['CX600'], imageBytes: 64 * 1024, journal, progressIntervalMs: 0 });
    demo.lab.context.dns.remove(`ucupdates-r2.${demo.lab.context.domain}`);
    const r = await run(demo, { network: 'internal' });
    expect(r.final.failure).toBeNull();
    expect(r.final.state).toBe('signed-in');
    expect(r.final.stages.map((s) => s.status)).toEqual(['done', 'done', 'skipped', 'skipped', 'done', 'done', 'done', 'done', 'done']);
    const logon = r.final.stages.find((s) => s.stage === 'logon')!;
    const version = nextVersion(findModel('CX600', BUILT_IN_CATALOGUE)!.firmwareVersion);
    expect(logon.summary).toContain('/RequestHandler/ucdevice.upx');
    expect(logon.summary).toContain(`→ ${version}`);
    const phone = await demo.fleet.manager.waitForSerial(demo.serials[0]!);
    expect(phone.identity.firmwareVersion).toBe(version);
    expect((await phone.session.call('status', {})).registration.state).toBe('registered');
    const history = await demo.service.history({ serial: demo.serials[0]! });
    expect(history.map((h) => h.kind).sort()).toEqual(['firmware-change', 'sign-in']);
  }, 120_000);
});
