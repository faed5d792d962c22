import { describe, expect, it } from 'vitest';
import {
  ed25519KeyPair,
  memoryHostPairing,
  memoryLinkPair,
  memoryPhonePairing,
  openDeviceSession,
  openHostSession,
  signEd25519,
  type DeviceSessionOptions,
  type HostPairingKeys,
  type HostSessionOptions,
  type MemoryLinkOptions,
  type PairingMethod,
  type PhonePairingKeys,
} from '../../../native/protocol';
import { decodeFrame, FrameType } from '../../../native/protocol/frame';
import { CORE, type SessionCore } from '../../../native/protocol/session';
import { IDENTITY, SAMPLES, sampleHandlers } from './fixtures';

interface Opened {
  readonly host: Awaited<ReturnType<typeof openHostSession>>;
  readonly device: Awaited<ReturnType<typeof openDeviceSession>>;
  readonly shown: string[];
  readonly paired: PairingMethod[];
  readonly hostFrames: Uint8Array[];
}

/** One session between a host and a phone; both sides' outcomes, whether they opened or not. */
async function session(host: HostSessionOptions, device: Partial<DeviceSessionOptions>, link: MemoryLinkOptions = {}) {
  const shown: string[] = [];
  const paired: PairingMethod[] = [];
  const hostFrames: Uint8Array[] = [];
  const [hostLink, deviceLink] = memoryLinkPair({
    transform: (direction, frame) => {
      const out = link.transform ? link.transform(direction, frame) : [frame];
      if (direction === 'a→b') hostFrames.push(...out);
      return out;
    },
  });
  const [d, h] = await Promise.allSettled([
    openDeviceSession(deviceLink, {
      identity: IDENTITY,
      handlers: sampleHandlers(),
      showSas: (sas) => shown.push(sas),
      onPaired: (method) => paired.push(method),
      ...device,
    }),
    openHostSession(hostLink, host),
  ]);
  return { d, h, shown, paired, hostFrames };
}

async function opened(host: HostSessionOptions, device: Partial<DeviceSessionOptions>, link: MemoryLinkOptions = {}): Promise<Opened> {
  const r = await session(host, device, link);
  if (r.h.status === 'rejected') throw r.h.reason;
  if (r.d.status === 'rejected') throw r.d.reason;
  return { host: r.h.value, device: r.d.value, shown: r.shown, paired: r.paired, hostFrames: r.hostFrames };
}

/** A host and a phone that paired once by code (so each remembers the other). */
async function pairedOnce() {
  const hostKeys = memoryHostPairing();
  const phoneKeys = memoryPhonePairing();
  const first = await opened({ pairingKeys: hostKeys }, { pairingKeys: phoneKeys });
  await first.host.confirmPairing();
  await first.host.close();
  return { hostKeys, phoneKeys, first };
}

const types = (raw: readonly Uint8Array[]) => raw.map((f) => decodeFrame(f, 1 << 24).type);

describe('known hosts: pair once per PC (docs/tether-protocol.md §5.7)', () => {
  it('the first session pairs by code; the confirmed pairing is remembered on both sides', async () => {
    const hostKeys = memoryHostPairing();
    const phoneKeys = memoryPhonePairing();
    const { host, device, shown, paired, hostFrames } = await opened({ pairingKeys: hostKeys }, { pairingKeys: phoneKeys });
    expect(host.negotiated.features).toContain('known-host');
    expect(types(hostFrames)).toEqual([FrameType.HELLO, FrameType.KEY, FrameType.PAIR]);
    expect(host.pairing()).toEqual({ sas: device.sas, confirmed: false, method: 'code', remembered: false });
    expect(device.pairingMethod).toBe('code');
    expect(shown).toEqual([device.sas]);
    expect(hostKeys.phoneKey(IDENTITY.serial)).toBeNull();
    expect(phoneKeys.hosts).toBe(0);
    await host.confirmPairing();
    expect(paired).toEqual(['code']);
    expect(host.pairing()).toMatchObject({ confirmed: true, method: 'code', remembered: true });
    expect(hostKeys.phoneKey(IDENTITY.serial)).toEqual(phoneKeys.publicKey);
    expect(phoneKeys.knows(hostKeys.publicKey)).toBe(true);
    await host.close();
  });

  it('a later session with the same PC pairs by the remembered keys: no code shown, fresh session keys', async () => {
    const { hostKeys, phoneKeys, first } = await pairedOnce();
    const again = await opened({ pairingKeys: hostKeys }, { pairingKeys: phoneKeys });
    expect(again.host.pairing()).toMatchObject({ confirmed: true, method: 'known-host', remembered: true });
    expect(again.host.paired).toBe(true);
    expect(again.device.pairingMethod).toBe('known-host');
    expect(again.shown).toEqual([]);
    expect(again.paired).toEqual(['known-host']);
    // Paired-only operations work at once, with no confirmPairing().
    await expect(again.host.call('credentials', SAMPLES.credentials.request)).resolves.toEqual({ accepted: true });
    // New ephemeral keys: another SAS, other handshake bytes.
    expect(Buffer.from(again.hostFrames[1]!).equals(Buffer.from(first.hostFrames[1]!))).toBe(false);
    await again.host.close();
  });

  it('a phone that dropped the PC (wiped, or evicted) shows a code again, and the new pairing is remembered', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    phoneKeys.forgetAll();
    const s = await opened({ pairingKeys: hostKeys }, { pairingKeys: phoneKeys });
    expect(s.host.pairing()).toMatchObject({ confirmed: false, method: 'code' });
    expect(s.shown).toEqual([s.device.sas]);
    await expect(s.host.call('credentials', SAMPLES.credentials.request)).rejects.toMatchObject({ code: 'PROTOCOL_NOT_PAIRED' });
    await s.host.confirmPairing();
    await s.host.close();
    const third = await opened({ pairingKeys: hostKeys }, { pairingKeys: phoneKeys });
    expect(third.host.pairing().method).toBe('known-host');
    await third.host.close();
  });

  it('an unknown PC (another host key) and a host without a record for the serial pair by code', async () => {
    const { phoneKeys } = await pairedOnce();
    const other = await opened({ pairingKeys: memoryHostPairing() }, { pairingKeys: phoneKeys });
    expect(other.host.pairing().method).toBe('code');
    expect(other.shown).toHaveLength(1);
    await other.host.close();
  });

  it('either side without known-host support: the feature is not negotiated, no PAIR is sent, the code is shown', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    const oldPhone = await opened({ pairingKeys: hostKeys }, {});
    expect(oldPhone.host.negotiated.features).not.toContain('known-host');
    expect(types(oldPhone.hostFrames)).toEqual([FrameType.HELLO, FrameType.KEY]);
    expect(oldPhone.host.pairing().method).toBe('code');
    expect(oldPhone.shown).toHaveLength(1);
    await oldPhone.host.close();
    const oldHost = await opened({}, { pairingKeys: phoneKeys });
    expect(oldHost.device.pairingMethod).toBe('code');
    expect(oldHost.shown).toHaveLength(1);
    await oldHost.host.close();
  });

  it('a failed save of the phone’s key still pairs; the host says it is not remembered', async () => {
    const keys = memoryHostPairing();
    const failing: HostPairingKeys = { ...keys, remember: async () => Promise.reject(new Error('disk full')) };
    const s = await opened({ pairingKeys: failing }, { pairingKeys: memoryPhonePairing() });
    await s.host.confirmPairing();
    expect(s.host.pairing()).toMatchObject({ confirmed: true, method: 'code', remembered: false });
    await s.host.close();
  });
});

describe('known hosts: downgrade', () => {
  it('stripping the host’s proof gives the phone a code pairing, never a code-free one', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    // An attacker that speaks for the PC: the PC's public key, but it cannot sign, so it sends no proof.
    const stripped: HostPairingKeys = { ...hostKeys, phoneKey: () => null };
    const s = await opened({ pairingKeys: stripped }, { pairingKeys: phoneKeys });
    expect(s.device.pairingMethod).toBe('code');
    expect(s.device.paired).toBe(false);
    expect(s.shown).toHaveLength(1);
    // The phone itself refuses secrets (not only the host API).
    const core = (s.host as unknown as { [CORE]: SessionCore })[CORE];
    await expect(core.sendRequest('credentials', SAMPLES.credentials.request)).rejects.toMatchObject({ code: 'PROTOCOL_NOT_PAIRED' });
    await s.host.close();
  });

  it('stripping the phone’s proof gives the host a code pairing, never a code-free one', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    const forgetful: PhonePairingKeys = { ...phoneKeys, knows: () => false };
    const s = await opened({ pairingKeys: hostKeys }, { pairingKeys: forgetful });
    expect(s.host.pairing()).toMatchObject({ confirmed: false, method: 'code' });
    await expect(s.host.call('credentials', SAMPLES.credentials.request)).rejects.toMatchObject({ code: 'PROTOCOL_NOT_PAIRED' });
    await s.host.close();
  });

  it('a host lying about being known (its own valid key, unknown to the phone) gets a code pairing', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    const liar = memoryHostPairing();
    await liar.remember(IDENTITY.serial, phoneKeys.publicKey); // so it sends a proof, by its own key
    const s = await opened({ pairingKeys: liar }, { pairingKeys: phoneKeys });
    expect(s.device.pairingMethod).toBe('code');
    expect(s.host.pairing()).toMatchObject({ confirmed: false, method: 'code' });
    expect(s.shown).toHaveLength(1);
    expect(phoneKeys.knows(liar.publicKey)).toBe(false);
    expect(phoneKeys.knows(hostKeys.publicKey)).toBe(true);
    await s.host.close();
  });

  it('a host claiming a remembered PC’s key without its private key fails closed', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    const thief = ed25519KeyPair();
    const impostor: HostPairingKeys = { ...hostKeys, sign: (m) => signEd25519(thief.privateKey, m) };
    const r = await session({ pairingKeys: impostor }, { pairingKeys: phoneKeys });
    expect(r.d).toMatchObject({ status: 'rejected', reason: { code: 'PROTOCOL_PAIRING_PROOF_INVALID' } });
    expect(r.h).toMatchObject({ status: 'rejected', reason: { code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'PROTOCOL_PAIRING_PROOF_INVALID' } } });
    expect(r.shown).toEqual([]);
  });

  it('a phone claiming to know the PC with another key than the one remembered for its serial fails closed', async () => {
    const { hostKeys } = await pairedOnce();
    const impostor = memoryPhonePairing(); // a device with the same serial but not the paired phone's key
    const lying: PhonePairingKeys = { ...impostor, knows: () => true };
    const r = await session({ pairingKeys: hostKeys }, { pairingKeys: lying });
    expect(r.h).toMatchObject({ status: 'rejected', reason: { code: 'PROTOCOL_PAIRING_PROOF_INVALID' } });
  });

  it('a phone whose proof does not verify fails closed', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    const bad: PhonePairingKeys = { ...phoneKeys, sign: () => new Uint8Array(64).fill(7) };
    const r = await session({ pairingKeys: hostKeys }, { pairingKeys: bad });
    expect(r.h).toMatchObject({ status: 'rejected', reason: { code: 'PROTOCOL_PAIRING_PROOF_INVALID' } });
  });
});

describe('known hosts: replay', () => {
  it('a proof recorded in an earlier session does not verify in a new one', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    const recorded: Uint8Array[] = [];
    const recording: HostPairingKeys = { ...hostKeys, sign: (m) => (recorded.push(hostKeys.sign(m)), recorded.at(-1)!) };
    const earlier = await opened({ pairingKeys: recording }, { pairingKeys: phoneKeys });
    expect(earlier.host.pairing().method).toBe('known-host');
    await earlier.host.close();
    // An attacker that replays the PC's proof (its key is public) in a session of its own.
    const replaying: HostPairingKeys = { ...hostKeys, sign: () => recorded[0]! };
    const r = await session({ pairingKeys: replaying }, { pairingKeys: phoneKeys });
    expect(r.d).toMatchObject({ status: 'rejected', reason: { code: 'PROTOCOL_PAIRING_PROOF_INVALID' } });
    expect(r.shown).toEqual([]);
  });

  it('a phone’s proof recorded in an earlier session does not verify in a new one', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    const recorded: Uint8Array[] = [];
    const recording: PhonePairingKeys = { ...phoneKeys, sign: (m) => (recorded.push(phoneKeys.sign(m)), recorded.at(-1)!) };
    await (await opened({ pairingKeys: hostKeys }, { pairingKeys: recording })).host.close();
    const replaying: PhonePairingKeys = { ...phoneKeys, sign: () => recorded[0]! };
    const r = await session({ pairingKeys: hostKeys }, { pairingKeys: replaying });
    expect(r.h).toMatchObject({ status: 'rejected', reason: { code: 'PROTOCOL_PAIRING_PROOF_INVALID' } });
  });

  it('a PAIR frame replayed from an earlier session fails on its seal', async () => {
    const { hostKeys, phoneKeys } = await pairedOnce();
    const earlier = await opened({ pairingKeys: hostKeys }, { pairingKeys: phoneKeys });
    const oldPair = earlier.hostFrames.find((f) => f[5] === FrameType.PAIR)!;
    await earlier.host.close();
    const r = await session({ pairingKeys: hostKeys }, { pairingKeys: phoneKeys }, {
      transform: (direction, frame) => (direction === 'a→b' && frame[5] === FrameType.PAIR ? [oldPair] : [frame]),
    });
    expect(r.d).toMatchObject({ status: 'rejected', reason: { code: 'PROTOCOL_DECRYPT_FAILED' } });
    expect(r.paired).toEqual([]);
  });
});
