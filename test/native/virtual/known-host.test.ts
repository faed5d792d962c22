import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryHostPairing, openHostSession, type HostPairingKeys } from '../../../native/protocol';
import { findModel } from '../../../native/usb/catalogue';
import { openTetherLink } from '../../../native/usb/open';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone } from '../../../native/virtual/create';
import { VirtualPhone } from '../../../native/virtual/phone/phone';
import { FolderPhoneStore, MAX_KNOWN_HOSTS, MemoryPhoneStore, type PhoneStore } from '../../../native/virtual/phone/store';
import type { VirtualUsbDevice } from '../../../native/virtual/usb-device';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** One host session on the phone's current enumeration: its pairing, and what the phone displayed meanwhile. */
async function attach(device: VirtualUsbDevice, pairingKeys: HostPairingKeys, confirm = true) {
  const displays: string[] = [];
  const off = device.host!.phone.onEvent((event, payload) => {
    if (event === 'display') displays.push((payload as { text: string }).text);
  });
  const session = await openHostSession(await openTetherLink(device), { pairingKeys });
  const pairing = session.pairing();
  if (confirm && !session.paired) await session.confirmPairing();
  off();
  await session.close();
  while (device.opened) await new Promise((r) => setImmediate(r));
  return { pairing, displays };
}

describe('the virtual phone remembers PCs (docs/tether-protocol.md §5.7)', () => {
  it('pairs by code once; after a reboot and after a replug it recognises the PC and shows no code', async () => {
    const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
    const host = device.host!;
    const pc = memoryHostPairing();
    const first = await attach(device, pc);
    expect(first.pairing.method).toBe('code');
    expect(first.displays.some((t) => t.startsWith('Pair with this PC?'))).toBe(true);
    expect(host.phone.rememberedHosts).toHaveLength(1);

    const rebooted = host.nextAttach();
    await host.reboot('test');
    const afterReboot = await attach(await rebooted, pc);
    expect(afterReboot.pairing).toMatchObject({ method: 'known-host', confirmed: true });
    expect(afterReboot.displays.some((t) => t.startsWith('Pair'))).toBe(false);

    host.unplug();
    const replugged = await attach(host.plug()!, pc);
    expect(replugged.pairing.method).toBe('known-host');
    expect(host.phone.logs(1 << 16).text).toContain('a remembered PC proved its key (no code)');
  });

  it('a wipe forgets every PC: the next session shows a code', async () => {
    const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
    const pc = memoryHostPairing();
    await attach(device, pc);
    const s = await openHostSession(await openTetherLink(device), { pairingKeys: pc });
    expect(s.pairing().method).toBe('known-host');
    await s.call('wipe', { includeCertificate: false });
    await s.close();
    while (device.opened) await new Promise((r) => setImmediate(r));
    expect(device.host!.phone.rememberedHosts).toEqual([]);
    const after = await attach(device, pc, false);
    expect(after.pairing.method).toBe('code');
    expect(after.displays.some((t) => t.startsWith('Pair with this PC?'))).toBe(true);
  });

  it(`keeps at most ${MAX_KNOWN_HOSTS} PCs, forgetting the least recently used`, async () => {
    const phone = await VirtualPhone.load({ model: findModel('CX600')!, serial: 'CX600-KH', store: new MemoryPhoneStore() });
    const keys = phone.pairingKeys;
    const pcs = Array.from({ length: MAX_KNOWN_HOSTS + 1 }, (_, i) => new Uint8Array(32).fill(i + 1));
    for (const pc of pcs.slice(0, MAX_KNOWN_HOSTS)) keys.remember(pc);
    keys.used!(pcs[0]!); // the oldest is used again, so the second oldest goes
    keys.remember(pcs[MAX_KNOWN_HOSTS]!);
    expect(phone.rememberedHosts).toHaveLength(MAX_KNOWN_HOSTS);
    expect(keys.knows(pcs[0]!)).toBe(true);
    expect(keys.knows(pcs[1]!)).toBe(false);
    expect(keys.knows(pcs[MAX_KNOWN_HOSTS]!)).toBe(true);
    await phone.forgetHosts();
    expect(keys.knows(pcs[0]!)).toBe(false);
  });

  it('flash keeps the PCs’ public keys only; a new process (no pairing key in the vault) forgets them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-kh-'));
    dirs.push(dir);
    const store: PhoneStore = new FolderPhoneStore(dir);
    const model = findModel('CX600')!;
    const phone = await VirtualPhone.load({ model, serial: 'CX600-KH2', store });
    const pc = memoryHostPairing();
    phone.pairingKeys.remember(pc.publicKey);
    await phone.shutdown('test');
    // Same process (the vault survives, as a phone's secure storage does): remembered.
    const again = await VirtualPhone.load({ model, serial: 'CX600-KH2', store });
    expect(again.pairingKeys.knows(pc.publicKey)).toBe(true);
    const record = JSON.parse(readFileSync(join(dir, 'CX600-KH2', 'state.json'), 'utf8')) as { knownHosts: Array<{ key: string }> };
    expect(record.knownHosts.map((h) => h.key)).toEqual([Buffer.from(pc.publicKey).toString('hex')]);
    for (const f of readdirSync(join(dir, 'CX600-KH2'))) expect(readFileSync(join(dir, 'CX600-KH2', f), 'latin1')).not.toContain('PRIVATE KEY');
    // A new process: a new vault, so a new pairing key; the old PCs must show a code.
    const fresh = await VirtualPhone.load({ model, serial: 'CX600-KH2', store: new FolderPhoneStore(dir) });
    expect(fresh.pairingKeys.knows(pc.publicKey)).toBe(false);
    expect(fresh.logs(1 << 16).text).toContain('1 remembered PC(s) forgotten: the pairing key is gone');
  });
});
