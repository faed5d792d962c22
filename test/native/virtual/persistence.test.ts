import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findModel } from '../../../native/usb/catalogue';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone } from '../../../native/virtual/create';
import { VirtualPhone } from '../../../native/virtual/phone/phone';
import { FolderPhoneStore, MemoryPhoneStore, type PhoneStore } from '../../../native/virtual/phone/store';
import { makeTestCa } from './pki-fixtures';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-phone-'));
  dirs.push(d);
  return d;
}

const model = findModel('CX600')!;
const ENDPOINTS = {
  registrar: { fqdn: 'pool01.contoso.test', port: 5061 },
  webServicesInternal: 'https://pool01.contoso.test/CertProv/CertProvisioningService.svc',
  webServicesExternal: null,
  deviceUpdateInternal: null,
  deviceUpdateExternal: null,
};

/** Provisions a phone fully and leaves a firmware transfer half done. */
async function provision(store: PhoneStore, serial: string) {
  const ca = makeTestCa();
  const phone = await VirtualPhone.load({ model, serial, store });
  await phone.setPoolEndpoints(ENDPOINTS);
  await phone.installCaChain([ca.der(ca.root), ca.der(ca.intermediate)]);
  await phone.setCredentials({ kind: 'pin', extension: '4255550101', pin: '918273' });
  const csr = await phone.makeKeyPair('sip:dave@contoso.test', 2048);
  const cert = ca.der(ca.issue(csr));
  await phone.installCertificate(cert, [ca.der(ca.intermediate)]);
  const image = new Uint8Array(10_000).fill(7);
  const { createHash } = await import('node:crypto');
  const b = await phone.firmwareBegin({ size: image.byteLength, version: '4.0.7577.5000', sha256: createHash('sha256').update(image).digest() });
  await phone.firmwareData({ transferId: b.transferId, offset: 0, data: image.subarray(0, 6000) });
  await phone.shutdown('test power cut');
  return { ca, cert, transferId: b.transferId };
}

describe('persistence across power cycles and re-creation (same serial)', () => {
  for (const kind of ['memory', 'folder'] as const) {
    it(`keeps firmware, certificate, chain and pool endpoints, never credentials (${kind} store)`, async () => {
      const store: PhoneStore = kind === 'memory' ? new MemoryPhoneStore() : new FolderPhoneStore(folder());
      const { ca, cert, transferId } = await provision(store, 'CX600-P1');
      const again = await VirtualPhone.load({ model, serial: 'CX600-P1', store });
      expect(again.endpoints).toEqual(ENDPOINTS);
      expect(again.installedChain.map((c) => Buffer.from(c))).toEqual([Buffer.from(ca.der(ca.root)), Buffer.from(ca.der(ca.intermediate))]);
      expect(Buffer.from(again.installedCertificate!)).toEqual(Buffer.from(cert));
      expect(again.hasCredentials).toBe(false);
      expect(again.firmwareStatus().transfer).toMatchObject({ transferId, have: 6000, size: 10_000 });
      // Another serial is another phone.
      const other = await VirtualPhone.load({ model, serial: 'CX600-P2', store });
      expect(other.installedCertificate).toBeNull();
      // Wipe erases user data (and, when asked, the key pair and certificate), not firmware.
      await again.wipe(true);
      const wiped = await VirtualPhone.load({ model, serial: 'CX600-P1', store });
      expect(wiped.endpoints).toBeNull();
      expect(wiped.installedChain).toHaveLength(0);
      expect(wiped.installedCertificate).toBeNull();
      expect(wiped.firmwareStatus().transfer?.have).toBe(6000);
    });
  }

  it('writes no PIN, password or private key to the folder; a new process loses the key and drops the certificate', async () => {
    const root = folder();
    await provision(new FolderPhoneStore(root), 'CX600-P3');
    const files = readdirSync(join(root, 'CX600-P3'));
    expect(files.sort()).toEqual(['slot-b.img', 'state.json']);
    const state = readFileSync(join(root, 'CX600-P3', 'state.json'), 'utf8');
    expect(state).not.toContain('918273');
    expect(state).not.toMatch(/PRIVATE KEY/);
    expect(state).toContain('4.0.7577.5000');
    // A new FolderPhoneStore is a new process: the key (memory only) is gone.
    const fresh = await VirtualPhone.load({ model, serial: 'CX600-P3', store: new FolderPhoneStore(root) });
    expect(fresh.installedCertificate).toBeNull();
    expect(fresh.logs(100_000).text).toContain('certificate dropped');
    expect(fresh.logs(100_000).text).not.toContain('918273');
  });

  it('refuses a serial that is not a safe folder name, and a serial stored as another model', async () => {
    await expect(VirtualPhone.load({ model, serial: '../etc', store: new FolderPhoneStore(folder()) })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    const store = new MemoryPhoneStore();
    await VirtualPhone.load({ model, serial: 'X1', store });
    await expect(VirtualPhone.load({ model: findModel('CX700')!, serial: 'X1', store })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('createVirtualPhone with the same serial and store is the same phone', async () => {
    const store = new MemoryPhoneStore();
    const a = await createVirtualPhone({ model: 'CX600', serial: 'CX600-P4', store, clock: new VirtualClock() });
    await a.host!.phone.setPoolEndpoints(ENDPOINTS);
    await a.host!.powerOff();
    const b = await createVirtualPhone({ model: 'CX600', serial: 'CX600-P4', store, clock: new VirtualClock() });
    expect(b).not.toBe(a);
    expect(b.host!.phone.endpoints).toEqual(ENDPOINTS);
    expect(b.serialNumber).toBe('CX600-P4');
  });
});
