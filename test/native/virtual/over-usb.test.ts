import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { openHostSession, type HostSession } from '../../../native/protocol';
import { openTetherLink } from '../../../native/usb/open';
import { ManualSource } from '../../../native/usb/source';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone } from '../../../native/virtual/create';
import { MemoryPhoneStore } from '../../../native/virtual/phone/store';
import type { VirtualUsbDevice } from '../../../native/virtual/usb-device';
import { makeTestCa } from './pki-fixtures';

const open: HostSession[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
});

/** Host side exactly as production: H3's openTetherLink over the USBDevice, H1's host session. */
async function connect(device: USBDevice, pair = true, maxPayload?: number): Promise<HostSession> {
  const link = await openTetherLink(device);
  const session = await openHostSession(link, maxPayload === undefined ? {} : { maxPayload });
  open.push(session);
  if (pair) await session.confirmPairing();
  return session;
}

function image(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

describe('virtual phone over USB (H1 session, H3 adapter)', () => {
  it('hands its identity in the handshake and shows the pairing code on its display', async () => {
    const device = await createVirtualPhone({ model: 'CX600', serial: 'CX600-E2E1', clock: new VirtualClock() });
    const session = await connect(device, false);
    expect(session.identity).toMatchObject({ modelId: 'CX600', serial: 'CX600-E2E1', firmwareVersion: '4.0.7577.4455', locale: 'ENU' });
    const sas = session.pairing().sas;
    const shown = device.host!.phone.displayText.replace(/\s/g, '');
    expect(shown).toContain(sas);
    await expect(session.call('credentials', { kind: 'pin', extension: '101', pin: '1234' })).rejects.toMatchObject({ code: 'PROTOCOL_NOT_PAIRED' });
    await session.confirmPairing();
    await expect(session.call('credentials', { kind: 'pin', extension: '101', pin: '1234' })).resolves.toEqual({ accepted: true });
  });

  it('round-trips every operation', async () => {
    const ca = makeTestCa();
    const device = await createVirtualPhone({
      model: 'CX600',
      serial: 'CX600-E2E2',
      clock: new VirtualClock(),
      network: { vlan: 100, vlanSource: 'lldp', option43: Uint8Array.from([1, 2, 0x41, 0x42]), option120: Uint8Array.from([0, 3, 0x61, 0x62, 0x63, 0]) },
    });
    const s = await connect(device);
    const status = await s.call('status', {});
    expect(status.vlan).toBe(100);
    expect(Array.from(status.dhcpOption43 ?? [])).toEqual([1, 2, 0x41, 0x42]);
    expect(status.registration.state).toBe('unregistered');
    await s.call('setPoolEndpoints', {
      registrar: { fqdn: 'pool01.contoso.test', port: 5061 },
      webServicesInternal: 'https://pool01.contoso.test/CertProv/CertProvisioningService.svc',
      webServicesExternal: null,
      deviceUpdateInternal: 'https://pool01.contoso.test/RequestHandler/ucdevice.upx',
      deviceUpdateExternal: null,
    });
    const chain = await s.call('installCaChain', { certificates: [ca.der(ca.root), ca.der(ca.intermediate)] });
    expect(chain.fingerprints).toHaveLength(2);
    await s.call('credentials', { kind: 'ntlm', domain: 'CONTOSO', user: 'alice', password: 'pw', sipUri: 'sip:alice@contoso.test' });
    const { csr } = await s.call('makeKeyPair', { subject: 'sip:alice@contoso.test', keyBits: 2048 });
    const cert = ca.issue(csr);
    const installed = await s.call('installCertificate', { certificate: ca.der(cert), chain: [ca.der(ca.intermediate)] });
    expect(installed.thumbprint).toMatch(/^[0-9A-F]{40}$/);
    const fw = await s.call('firmwareStatus', {});
    expect(fw).toMatchObject({ running: 'a', runningVersion: '4.0.7577.4455', pendingCommit: false, transfer: null });
    const logs = await s.call('logs', { maxBytes: 100_000 });
    expect(logs.text).toContain('installed a CA chain');
    expect(logs.text).not.toContain('pw');
    await s.call('wipe', { includeCertificate: true });
    expect(device.host!.phone.installedCertificate).toBeNull();
    await expect(s.call('installCertificate', { certificate: ca.der(cert), chain: [] })).rejects.toMatchObject({ code: 'DEVICE_NO_KEY_PAIR' });
    await expect(s.call('firmwareCommit', {})).rejects.toMatchObject({ code: 'DEVICE_FIRMWARE_NOTHING_TO_COMMIT' });
    await expect(s.call('firmwareRollback', {})).rejects.toMatchObject({ code: 'DEVICE_FIRMWARE_NO_ROLLBACK' });
    const attached = device.host!.nextAttach();
    const r = await s.call('reboot', { delayMs: 0 });
    expect(r.rebootInMs).toBeGreaterThanOrEqual(0);
    const again = await attached;
    expect(again).not.toBe(device);
    expect(again.serialNumber).toBe('CX600-E2E2');
    await expect(device.open()).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('updates firmware: push, unplug at byte N, resume, verify, activate, re-attach, commit, roll back', async () => {
    const store = new MemoryPhoneStore();
    const source = new ManualSource();
    const disconnects: USBDevice[] = [];
    source.onDisconnect((d) => disconnects.push(d));
    const img = image(300_000);
    const sha256 = createHash('sha256').update(img).digest();
    const device = await createVirtualPhone({
      model: 'CX3000',
      serial: 'CX3000-E2E3',
      clock: new VirtualClock(),
      store,
      bus: source,
      faults: { unplugAtByte: { byte: 120_000 } },
    });
    const host = device.host!;
    // 64 KiB frames, so the unplug at byte 120 000 leaves whole chunks stored to resume from.
    let s = await connect(device, true, 65536);
    const begin = await s.call('firmwareBegin', { size: img.byteLength, version: '4.0.7577.9999', sha256 });
    expect(begin).toMatchObject({ slot: 'b', have: 0 });
    const attached = host.nextAttach();
    await expect(s.bulkWriter(begin.transferId).write(0, img).then(() => s.bulkWriter(begin.transferId).flush())).rejects.toBeInstanceOf(TetherError);
    expect(disconnects).toContain(device);
    expect(host.device).toBeNull();
    host.plug();
    const second = await attached;
    s = await connect(second);
    const resumed = await s.call('firmwareBegin', { size: img.byteLength, version: '4.0.7577.9999', sha256 });
    expect(resumed.transferId).toBe(begin.transferId);
    expect(resumed.have).toBeGreaterThan(0);
    expect(resumed.have).toBeLessThan(120_000);
    const w = s.bulkWriter(resumed.transferId);
    await w.write(resumed.have, img.subarray(resumed.have));
    await w.flush();
    expect(Buffer.from((await s.call('firmwareVerify', { transferId: begin.transferId })).sha256)).toEqual(sha256);
    const third = host.nextAttach();
    const act = await s.call('firmwareActivate', { transferId: begin.transferId });
    expect(act.slot).toBe('b');
    const booted = await third;
    expect(booted.deviceVersionMajor).toBe(4);
    s = await connect(booted);
    expect(s.identity.firmwareVersion).toBe('4.0.7577.9999');
    expect((await s.call('firmwareStatus', {})).pendingCommit).toBe(true);
    expect(await s.call('firmwareCommit', {})).toEqual({ slot: 'b', version: '4.0.7577.9999' });
    const fourth = host.nextAttach();
    expect(await s.call('firmwareRollback', {})).toEqual({ slot: 'a', version: '4.0.7577.4455' });
    s = await connect(await fourth);
    expect(s.identity.firmwareVersion).toBe('4.0.7577.4455');
  });

  it('refuses an operation with the planned error and unplugs after an operation', async () => {
    const device: VirtualUsbDevice = await createVirtualPhone({
      model: 'HP4120',
      clock: new VirtualClock(),
      faults: { refuse: { operation: 'installCaChain', code: 'DEVICE_STORAGE_FULL', times: 1 }, unplugAfterOperation: { operation: 'logs' } },
    });
    expect(device.vendorId).toBe(0x1209);
    const s = await connect(device);
    const ca = makeTestCa();
    await expect(s.call('installCaChain', { certificates: [ca.der(ca.root)] })).rejects.toMatchObject({ code: 'DEVICE_STORAGE_FULL' });
    await expect(s.call('installCaChain', { certificates: [ca.der(ca.root)] })).resolves.toBeTruthy();
    await expect(s.call('logs', { maxBytes: 1000 })).rejects.toBeInstanceOf(TetherError);
    expect(device.attached).toBe(false);
  });

  it('rejects PIN credentials on a CX700 with the typed error', async () => {
    const device = await createVirtualPhone({ model: 'CX700', clock: new VirtualClock() });
    const s = await connect(device);
    await expect(s.call('credentials', { kind: 'pin', extension: '101', pin: '1234' })).rejects.toMatchObject({ code: 'DEVICE_CREDENTIALS_REJECTED' });
  });
});
