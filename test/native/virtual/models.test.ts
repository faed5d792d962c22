import { afterEach, describe, expect, it } from 'vitest';
import { openHostSession, type HostSession } from '../../../native/protocol';
import { BUILT_IN_CATALOGUE } from '../../../native/usb/catalogue';
import { findTetherInterface } from '../../../native/usb/endpoints';
import { openTetherLink } from '../../../native/usb/open';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone } from '../../../native/virtual/create';
import { VIRTUAL_VENDOR_ID } from '../../../native/virtual/descriptors';
import { macForSerial } from '../../../native/virtual/phone/identity';
import { MemoryPhoneStore } from '../../../native/virtual/phone/store';
import type { RegistrationAttempt } from '../../../native/virtual/phone/phone';
import { makeTestCa } from './pki-fixtures';

const open: HostSession[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
});

const IN_BAND = {
  registrarFqdn: 'pool01.contoso.test',
  deviceUpdateInternalUrl: 'https://pool01.contoso.test/RequestHandler/ucdevice.upx',
  deviceUpdateExternalUrl: 'https://lyncext.contoso.test/RequestHandlerExt/ucdevice.upx',
};

describe('every catalogue model', () => {
  for (const model of BUILT_IN_CATALOGUE.models) {
    it(`${model.id}: descriptors and handshake identity come from the catalogue`, async () => {
      const serial = `${model.id}-M1`;
      const device = await createVirtualPhone({ model: model.id, serial, clock: new VirtualClock(), speed: 'full' });
      expect(device.vendorId).toBe(model.vendorId ?? VIRTUAL_VENDOR_ID);
      expect(device.productName).toBe(model.name);
      expect(device.manufacturerName).toBe(model.vendor);
      expect(device.serialNumber).toBe(serial);
      expect(findTetherInterface(device).in.packetSize).toBe(64);
      const s = await openHostSession(await openTetherLink(device));
      open.push(s);
      expect(s.identity).toEqual({
        modelId: model.id,
        serial,
        hardwareRevision: model.hardwareRevision,
        firmwareVersion: model.firmwareVersion,
        mac: macForSerial(serial),
        locale: model.locale,
      });
      expect(s.identity.mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    });
  }

  it('gives distinct virtual product IDs and refuses an unknown model', async () => {
    const ids = new Set<number>();
    for (const m of BUILT_IN_CATALOGUE.models) ids.add((await createVirtualPhone({ model: m.id, clock: new VirtualClock() })).productId);
    expect(ids.size).toBe(BUILT_IN_CATALOGUE.models.length);
    await expect(createVirtualPhone({ model: 'CX9999' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

/** Stages 6–8 over the link: registrar endpoint, CA chain, key pair and certificate for `subject`. */
async function provision(s: HostSession, ca: ReturnType<typeof makeTestCa>, subject: string): Promise<void> {
  await s.call('setPoolEndpoints', { registrar: { fqdn: 'pool01.contoso.test', port: 5061 }, webServicesInternal: null, webServicesExternal: null, deviceUpdateInternal: null, deviceUpdateExternal: null });
  await s.call('installCaChain', { certificates: [ca.der(ca.root), ca.der(ca.intermediate)] });
  const { csr } = await s.call('makeKeyPair', { subject, keyBits: 2048 });
  await s.call('installCertificate', { certificate: ca.der(ca.issue(csr)), chain: [ca.der(ca.intermediate)] });
}

describe('display and registration', () => {
  it('sends display events and leaves registration alone when no registrar seam is given', async () => {
    const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
    const s = await openHostSession(await openTetherLink(device));
    open.push(s);
    const shown: string[] = [];
    s.on('display', (e) => shown.push(e.text));
    await s.confirmPairing();
    await s.call('status', {});
    expect(shown.at(-1)).toContain('Not signed in');
    expect((await s.call('status', {})).registration.state).toBe('unregistered');
  });

  it('signs in through the registrar seam once it has a certificate and a registrar, and reports the result', async () => {
    const ca = makeTestCa();
    const attempts: RegistrationAttempt[] = [];
    const store = new MemoryPhoneStore();
    const device = await createVirtualPhone({
      model: 'CX600',
      serial: 'CX600-REG',
      store,
      clock: new VirtualClock(),
      registrar: async (attempt) => {
        attempts.push(attempt);
        attempt.secureContext(); // the phone's key and certificate make a TLS context
        return attempts.length === 1 ? { ok: true, sipStatus: 200, diagnostics: null, provisioning: IN_BAND } : { ok: false, sipStatus: 401, diagnostics: '1000;reason="test"' };
      },
    });
    const s = await openHostSession(await openTetherLink(device));
    open.push(s);
    await s.confirmPairing();
    const events: string[] = [];
    s.on('registration', (r) => events.push(r.state));
    await provision(s, ca, 'sip:erin@contoso.test');
    let status = await s.call('status', {});
    for (let i = 0; i < 20 && status.registration.state !== 'registered'; i++) status = await s.call('status', {});
    expect(status.registration).toMatchObject({ state: 'registered', sipUri: 'sip:erin@contoso.test', registrar: 'pool01.contoso.test', sipStatus: 200, provisioning: IN_BAND });
    expect(attempts[0]!.registrar).toEqual({ fqdn: 'pool01.contoso.test', port: 5061 });
    expect(events).toContain('registering');
    expect(status.displayText).toContain('Signed in');
    // After a reboot the phone signs in again by itself (certificate, key and registrar survived).
    const back = device.host!.nextAttach();
    await s.call('reboot', { delayMs: 0 });
    const s2 = await openHostSession(await openTetherLink(await back));
    open.push(s2);
    let again = await s2.call('status', {});
    for (let i = 0; i < 20 && again.registration.state !== 'failed'; i++) again = await s2.call('status', {});
    expect(again.registration).toMatchObject({ state: 'failed', sipStatus: 401, diagnostics: '1000;reason="test"', provisioning: null });
    expect(attempts).toHaveLength(2);
  });

  it('reports no in-band addresses rather than values outside the status schema\'s bounds', async () => {
    const ca = makeTestCa();
    const device = await createVirtualPhone({
      model: 'CX600',
      serial: 'CX600-BIG',
      store: new MemoryPhoneStore(),
      clock: new VirtualClock(),
      registrar: async () => ({ ok: true, sipStatus: 200, diagnostics: null, provisioning: { ...IN_BAND, deviceUpdateExternalUrl: `https://x.test/${'a'.repeat(3000)}` } }),
    });
    const s = await openHostSession(await openTetherLink(device));
    open.push(s);
    await s.confirmPairing();
    await provision(s, ca, 'sip:erin@contoso.test');
    let status = await s.call('status', {});
    for (let i = 0; i < 20 && status.registration.state !== 'registered'; i++) status = await s.call('status', {});
    expect(status.registration).toMatchObject({ state: 'registered', provisioning: null });
  });

  it('signs in again when the registrar says to (before the SA expires), and stops on a wipe', async () => {
    const ca = makeTestCa();
    let calls = 0;
    // A fake timer: the test decides when "later" is; no wall-clock time passes.
    const timers: { delayMs: number; run: () => void; cancelled: boolean }[] = [];
    const device = await createVirtualPhone({
      model: 'CX600',
      serial: 'CX600-RENEW',
      clock: new VirtualClock(),
      registrar: async () => {
        calls++;
        return { ok: true, sipStatus: 200, diagnostics: null, renewAfterMs: 25 * 60_000 };
      },
      renewalTimer: (delayMs, run) => {
        const t = { delayMs, run, cancelled: false };
        timers.push(t);
        return () => (t.cancelled = true);
      },
    });
    const s = await openHostSession(await openTetherLink(device));
    open.push(s);
    await s.confirmPairing();
    await provision(s, ca, 'sip:gina@contoso.test');
    for (let i = 0; i < 20 && timers.length === 0; i++) await s.call('status', {});
    expect(calls).toBe(1);
    expect(timers.map((t) => t.delayMs)).toEqual([25 * 60_000]);
    const states: string[] = [];
    s.on('registration', (r) => states.push(r.state));
    timers[0]!.run(); // 25 minutes later
    for (let i = 0; i < 20 && timers.length < 2; i++) await s.call('status', {});
    expect(states).not.toContain('registering'); // a renewal does not sign the phone out meanwhile
    expect(calls).toBe(2);
    expect((await s.call('status', {})).registration.state).toBe('registered');
    await s.call('wipe', { includeCertificate: true });
    expect(timers[1]!.cancelled).toBe(true);
  });

  it('keeps any registrar failure text within the status schema (control characters, long multi-byte text)', async () => {
    const ca = makeTestCa();
    let calls = 0;
    const device = await createVirtualPhone({
      model: 'CX600',
      serial: 'CX600-DIAG',
      clock: new VirtualClock(),
      registrar: async () => {
        calls++;
        if (calls === 1) throw new Error(`TLS failed\nline two\t${'’'.repeat(600)}`);
        return { ok: false, sipStatus: 504, diagnostics: `x\r\n${'é'.repeat(2000)}` };
      },
    });
    const s = await openHostSession(await openTetherLink(device));
    open.push(s);
    await s.confirmPairing();
    await provision(s, ca, 'sip:frank@contoso.test');
    let status = await s.call('status', {});
    for (let i = 0; i < 20 && status.registration.state !== 'failed'; i++) status = await s.call('status', {});
    const first = status.registration.diagnostics!;
    expect(first.startsWith('TLS failed line two ’')).toBe(true);
    expect(Buffer.byteLength(first)).toBeLessThanOrEqual(1024);
    // The second attempt (after a reboot) returns its own overlong text; status still answers.
    const back = device.host!.nextAttach();
    await s.call('reboot', { delayMs: 0 });
    const s2 = await openHostSession(await openTetherLink(await back));
    open.push(s2);
    let again = await s2.call('status', {});
    for (let i = 0; i < 20 && again.registration.sipStatus !== 504; i++) again = await s2.call('status', {});
    expect(again.registration.diagnostics!.startsWith('x  é')).toBe(true);
    expect(Buffer.byteLength(again.registration.diagnostics!)).toBeLessThanOrEqual(1024);
  });

  it('does not sign in (and keeps answering status) when its certificate names no sip:user@domain', async () => {
    const ca = makeTestCa();
    let calls = 0;
    const device = await createVirtualPhone({
      model: 'CX600',
      serial: 'CX600-NOSIP',
      clock: new VirtualClock(),
      registrar: async () => {
        calls++;
        return { ok: true, sipStatus: 200, diagnostics: null };
      },
    });
    const s = await openHostSession(await openTetherLink(device));
    open.push(s);
    await s.confirmPairing();
    await provision(s, ca, 'Alice Smith');
    const status = await s.call('status', {});
    expect(status.registration).toMatchObject({ state: 'unregistered', sipUri: null });
    expect(calls).toBe(0);
    expect((await s.call('logs', { maxBytes: 65536 })).text).toContain('names no sip:user@domain address');
  });
});
