import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openHostSession } from '../../../native/protocol';
import { openTetherLink } from '../../../native/usb/open';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone } from '../../../native/virtual/create';
import { HOST_KEY_FILE, HostPairingStore, KNOWN_PHONES_FILE } from '../../../main/device/host-pairing';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-pairing-'));
  dirs.push(d);
  return join(d, 'pairing');
}

describe('HostPairingStore (this PC’s side of docs/tether-protocol.md §5.7)', () => {
  it('creates a private folder with the host key and an empty list; reopening gives the same key', async () => {
    const dir = folder();
    const a = await HostPairingStore.open(dir);
    if (process.platform !== 'win32') {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, HOST_KEY_FILE)).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, KNOWN_PHONES_FILE)).mode & 0o777).toBe(0o600);
    }
    const b = await HostPairingStore.open(dir);
    expect(b.publicKey).toEqual(a.publicKey);
    expect(b.serials()).toEqual([]);
  });

  it('remembers and forgets phones across reopening', async () => {
    const dir = folder();
    const a = await HostPairingStore.open(dir, { now: () => new Date('2026-12-05T10:00:00Z') });
    await a.remember('CX600-1', new Uint8Array(32).fill(1));
    await a.remember('CX600-2', new Uint8Array(32).fill(2));
    await a.forget('CX600-1');
    const b = await HostPairingStore.open(dir);
    expect(b.serials()).toEqual(['CX600-2']);
    expect(b.phoneKey('CX600-2')).toEqual(new Uint8Array(32).fill(2));
    expect(b.phoneKey('CX600-1')).toBeNull();
    expect(JSON.parse(readFileSync(join(dir, KNOWN_PHONES_FILE), 'utf8'))).toEqual({
      format: 1,
      phones: { 'CX600-2': { key: '02'.repeat(32), pairedAt: '2026-12-05T10:00:00.000Z' } },
    });
  });

  it('a damaged file is a typed error that names it; a damaged entry only drops that phone', async () => {
    const dir = folder();
    const a = await HostPairingStore.open(dir);
    await a.remember('CX600-1', new Uint8Array(32).fill(1));
    const phones = join(dir, KNOWN_PHONES_FILE);
    const good = JSON.parse(readFileSync(phones, 'utf8')) as { phones: Record<string, unknown> };
    writeFileSync(phones, JSON.stringify({ format: 1, phones: { ...good.phones, 'CX600-9': { key: 'zz' } } }));
    expect((await HostPairingStore.open(dir)).serials()).toEqual(['CX600-1']);
    writeFileSync(phones, '{not json');
    await expect(HostPairingStore.open(dir)).rejects.toMatchObject({ code: 'BAD_INPUT', detail: { path: phones } });
    writeFileSync(join(dir, HOST_KEY_FILE), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    await expect(HostPairingStore.open(dir)).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('pair once per PC: after Tether restarts (the store reopened), the phone still pairs without a code', async () => {
    const dir = folder();
    const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
    const first = await openHostSession(await openTetherLink(device), { pairingKeys: await HostPairingStore.open(dir) });
    expect(first.pairing().method).toBe('code');
    await first.confirmPairing();
    expect(first.pairing().remembered).toBe(true);
    await first.close();
    while (device.opened) await new Promise((r) => setImmediate(r));
    const restarted = await openHostSession(await openTetherLink(device), { pairingKeys: await HostPairingStore.open(dir) });
    expect(restarted.pairing()).toMatchObject({ method: 'known-host', confirmed: true });
    await restarted.close();
  });
});
