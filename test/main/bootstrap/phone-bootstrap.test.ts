import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import type { FaultName } from '../../../lab';
import { registrationError, runPhoneBootstrap, type PairingRequest, type PhoneAuth, type PhoneBootstrapOptions, type PhoneBootstrapResult } from '../../../main/bootstrap/phone-bootstrap';
import type { StageEvent } from '../../../main/bootstrap/stage-events';
import { startDemoWorld, type DemoWorld } from '../../../main/cli/demo-world';

const ALICE = { number: '+14255550101', pin: '13579', sip: 'sip:alice@contoso.test' };
const BOB_NTLM = { domain: 'CONTOSO', username: 'bob', password: 'Lab-Bob-2026!', sip: 'sip:bob@contoso.test' };

let world: DemoWorld | undefined;

afterEach(async () => {
  await world?.stop();
  world = undefined;
});

interface Run {
  events: StageEvent[];
  pairings: PairingRequest[];
  result?: PhoneBootstrapResult;
  error?: TetherError;
  secret: Buffer;
}

function pinAuth(): { auth: PhoneAuth; secret: Buffer } {
  const secret = Buffer.from(ALICE.pin, 'utf8');
  return { auth: { kind: 'pin', phoneOrExt: ALICE.number, pin: secret }, secret };
}

async function run(w: DemoWorld, over: Partial<PhoneBootstrapOptions> = {}, creds = pinAuth()): Promise<Run> {
  const events: StageEvent[] = [];
  const pairings: PairingRequest[] = [];
  const options: PhoneBootstrapOptions = {
    phones: w.fleet.manager,
    serial: w.serial,
    confirmPairing: async (req) => {
      pairings.push(req);
      return true;
    },
    auth: creds.auth,
    resolver: w.resolver,
    rootFingerprints: [w.lab.ca.rootFingerprint],
    osRoots: [],
    httpPort: w.lab.httpPort,
    httpsPort: w.lab.httpsPort,
    imageCache: w.imageCache,
    httpOptions: { retry: { attempts: 1 }, timeouts: { connectMs: 3000, idleMs: 5000, totalMs: 10_000 } },
    connectTimeoutMs: 3000,
    reattachTimeoutMs: 10_000,
    registrationTimeoutMs: 10_000,
    ...over,
  };
  try {
    const result = await runPhoneBootstrap(options, (e) => events.push(e));
    return { events, pairings, result, secret: creds.secret };
  } catch (err) {
    if (!(err instanceof TetherError)) throw err;
    return { events, pairings, error: err, secret: creds.secret };
  }
}

const trail = (events: StageEvent[]) => events.filter((e) => e.type !== 'stage-progress').map((e) => `${e.stage}:${e.type.replace('stage-', '')}`);
const STAGE_IDS = ['vlan', 'ip', 'find-update', 'check-update', 'registrar', 'ca-chain', 'auth', 'certificate', 'logon'];

async function world600(faults: FaultName[] = [], model = 'CX600', phoneSignsIn = true): Promise<DemoWorld> {
  world = await startDemoWorld({ model, faults, imageBytes: 96 * 1024, phoneSignsIn });
  return world;
}

describe('runPhoneBootstrap with a virtual phone against the lab', () => {
  it('runs the nine stages in order: firmware pushed and committed, the phone registered with a certificate that verifies against the lab chain', async () => {
    const w = await world600();
    const r = await run(w);
    expect(r.error).toBeUndefined();
    expect(trail(r.events)).toEqual(STAGE_IDS.flatMap((s) => [`${s}:start`, `${s}:end`]));
    const res = r.result!;

    // Stages 1–2: what the lab's DHCP handed the phone, decoded.
    expect(res.network.vlan).toBe(w.lab.context.dhcpOptions().vlanId);
    expect(res.network.certProvUrl).toBe(w.lab.context.dhcpOptions().certProvUrl);
    expect(res.network.sipServers).toEqual([w.lab.context.poolFqdn]);

    // Stage 4: the newer image went over USB, with progress, and the phone now runs it, committed.
    expect(res.update.offered).toBe(w.newVersion);
    expect(res.update.pushed?.version).toBe(w.newVersion);
    expect(res.update.pushed?.bytesSent).toBe(w.imageBytes);
    const pushes = r.events.filter((e) => e.type === 'stage-progress' && e.stage === 'check-update' && e.fraction !== undefined);
    expect(pushes.length).toBeGreaterThan(1);
    const phoneNow = w.device.host!.phone;
    expect(phoneNow.firmware.runningVersion).toBe(w.newVersion);
    expect(phoneNow.firmwareStatus().pendingCommit).toBe(false);
    // The phone restarted into the new firmware and recognised this PC: no second code (§5.7).
    expect(r.pairings.map((p) => p.reason)).toEqual(['start']);
    expect((await w.fleet.manager.waitForSerial(w.serial)).session.pairing().method).toBe('known-host');
    expect(r.pairings[0]!.phoneDisplay?.replace(/\D/g, '')).toContain(r.pairings[0]!.pairing.sas);

    // Stage 5: option 43 gave the Web Services URL; the pool endpoints are on the phone.
    expect(res.discovery.webServices.source).toBe('dhcp-option-43');
    expect(phoneNow.endpoints?.registrar?.fqdn).toBe(w.lab.context.poolFqdn);

    // Stage 6: the whole chain, root first, is on the phone.
    const installed = phoneNow.installedChain.map((d) => new X509Certificate(d));
    expect(installed.map((c) => c.fingerprint256)).toEqual(
      w.lab.ca
        .chainPems()
        .reverse()
        .map((p) => new X509Certificate(p).fingerprint256),
    );

    // Stage 8: the certificate on the phone chains to the lab's CA and names alice.
    const cert = new X509Certificate(phoneNow.installedCertificate!);
    const intermediate = new X509Certificate(w.lab.ca.intermediateCertPem);
    const root = new X509Certificate(w.lab.ca.rootCertPem);
    expect(cert.verify(intermediate.publicKey)).toBe(true);
    expect(intermediate.verify(root.publicKey)).toBe(true);
    expect(cert.subject).toContain(ALICE.sip);
    expect(res.certificate.fingerprint256).toBe(cert.fingerprint256);

    // Stage 9: the phone signed itself in.
    expect(res.registration).toMatchObject({ state: 'registered', sipUri: ALICE.sip, registrar: w.lab.context.poolFqdn });
    expect(res.display).toContain('Signed in');

    // The secret was wiped, and no event carries it.
    expect([...r.secret].every((b) => b === 0)).toBe(true);
    expect(JSON.stringify(r.events)).not.toContain(ALICE.pin);
  }, 60_000);

  it('the cable is pulled mid-push: the push resumes from what the phone holds after re-attach, and the run completes', async () => {
    const w = await world600();
    const host = w.device.host!;
    host.faults.set({ unplugAtByte: { byte: 60_000 } });
    const off = host.onDetach(() => setTimeout(() => host.plug(), 20));
    const r = await run(w);
    off();
    expect(r.error).toBeUndefined();
    expect(r.result!.update.pushed).toMatchObject({ version: w.newVersion, resumes: 1 });
    // Resumed, not restarted: fewer than two images' worth crossed.
    expect(r.result!.update.pushed!.bytesSent).toBeLessThan(2 * w.imageBytes);
    expect(r.events.some((e) => e.type === 'stage-progress' && /resumed at/.test(e.message))).toBe(true);
    expect(r.result!.registration.state).toBe('registered');
  }, 60_000);

  it('pairing refused: nothing after it runs and no credential reaches the phone', async () => {
    const w = await world600();
    const r = await run(w, { confirmPairing: async () => false });
    expect(r.error?.code).toBe('PAIRING_REFUSED');
    expect(trail(r.events)).not.toContain('auth:start');
    expect(r.events).toEqual([]);
    expect(w.device.host!.phone.hasCredentials).toBe(false);
    expect(w.device.host!.phone.endpoints).toBeNull();
    expect([...r.secret].every((b) => b === 0)).toBe(true);
  }, 30_000);

  it('a Device Update fault fails stage 4 with its typed error, before the pool is touched', async () => {
    const w = await world600(['device-update-500']);
    const r = await run(w);
    expect(r.error?.stage).toBe('check-update');
    expect(r.error?.code).toMatch(/^UPDATE_/);
    expect(trail(r.events).at(-1)).toBe('check-update:failed');
    expect(w.device.host!.phone.hasCredentials).toBe(false);
  }, 30_000);

  it('registrar-unreachable: stages 1–8 pass, stage 9 fails with REGISTRAR_UNREACHABLE as the phone reports it', async () => {
    const w = await world600(['registrar-unreachable']);
    const r = await run(w);
    expect(r.error?.code).toBe('REGISTRAR_UNREACHABLE');
    expect(r.error?.stage).toBe('logon');
    expect(trail(r.events).filter((t) => t.endsWith(':end'))).toHaveLength(8);
    expect(w.device.host!.phone.status().registration.state).toBe('failed');
  }, 60_000);

  it('an RSA-1024 phone key (keyBits 1024 chosen explicitly): stage 9 fails with REGISTRAR_KEY_TOO_SMALL and its fix', async () => {
    const w = await world600();
    const r = await run(w, { keyBits: 1024 });
    expect(r.error?.code).toBe('REGISTRAR_KEY_TOO_SMALL');
    expect(r.error?.stage).toBe('logon');
    expect(r.error?.fix).toMatch(/2048-bit/);
    expect(trail(r.events).filter((t) => t.endsWith(':end'))).toHaveLength(8);
  }, 60_000);

  it('a CX700 with a PIN: a typed error telling the user to use Windows credentials, and no PIN sent', async () => {
    const w = await world600([], 'CX700');
    const r = await run(w);
    expect(r.error?.code).toBe('PHONE_PIN_UNSUPPORTED');
    expect(r.error?.stage).toBe('auth');
    expect(r.error?.fix).toMatch(/Windows credentials/);
    expect(w.device.host!.phone.hasCredentials).toBe(false);
    expect([...r.secret].every((b) => b === 0)).toBe(true);
  }, 60_000);

  it('a CX700 with Windows credentials signs in', async () => {
    const w = await world600([], 'CX700');
    const secret = Buffer.from(BOB_NTLM.password, 'utf8');
    const r = await run(w, {}, { auth: { kind: 'ntlm', domain: BOB_NTLM.domain, username: BOB_NTLM.username, password: secret, sipUri: BOB_NTLM.sip }, secret });
    expect(r.error).toBeUndefined();
    expect(r.result?.registration).toMatchObject({ state: 'registered', sipUri: BOB_NTLM.sip });
    expect([...secret].every((b) => b === 0)).toBe(true);
  }, 60_000);

  it('a phone that never reports its sign-in: PHONE_REGISTRATION_TIMEOUT at stage 9', async () => {
    const w = await world600([], 'CX600', false);
    const SIGN_IN_WAIT = 4321;
    // The sign-in wait fires as soon as it is armed; every other timer is real.
    const timers = {
      setTimeout: (cb: () => void, ms: number): unknown => (ms === SIGN_IN_WAIT ? setImmediate(cb) : setTimeout(cb, ms)),
      clearTimeout: (h: unknown) => {
        clearTimeout(h as ReturnType<typeof setTimeout>);
        clearImmediate(h as ReturnType<typeof setImmediate>);
      },
    };
    const r = await run(w, { registrationTimeoutMs: SIGN_IN_WAIT, timers });
    expect(r.error?.code).toBe('PHONE_REGISTRATION_TIMEOUT');
    expect(r.error?.stage).toBe('logon');
    expect(trail(r.events).filter((t) => t.endsWith(':end'))).toHaveLength(8);
  }, 60_000);
});

describe('registrationError', () => {
  const base = { state: 'failed' as const, sipUri: 'sip:alice@contoso.test', registrar: 'pool01.contoso.test' };
  it('takes the registrar code the phone named, else maps the SIP status', () => {
    expect(registrationError({ ...base, sipStatus: null, diagnostics: 'REGISTRAR_TLS_FAILED: bad certificate' }).code).toBe('REGISTRAR_TLS_FAILED');
    expect(registrationError({ ...base, sipStatus: 401, diagnostics: null }).code).toBe('REGISTRAR_CERT_REQUIRED');
    expect(registrationError({ ...base, sipStatus: 403, diagnostics: 'ms-diagnostics: 1002' }).code).toBe('REGISTRAR_FORBIDDEN');
    expect(registrationError({ ...base, sipStatus: 500, diagnostics: null }).code).toBe('REGISTRAR_REJECTED');
    expect(registrationError({ ...base, sipStatus: null, diagnostics: 'socket closed' }).code).toBe('REGISTRAR_UNREACHABLE');
    // A code from another area is not taken at face value.
    expect(registrationError({ ...base, sipStatus: 403, diagnostics: 'INTERNAL: x' }).code).toBe('REGISTRAR_FORBIDDEN');
    const e = registrationError({ ...base, sipStatus: null, diagnostics: 'REGISTRAR_TIMEOUT: no answer in 15000 ms' });
    expect(e.stage).toBe('logon');
    expect(e.message).toContain('no answer in 15000 ms');
    expect(e.message).not.toContain('REGISTRAR_TIMEOUT:');
  });
});
