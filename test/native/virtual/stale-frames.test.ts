import { expect, it } from 'vitest';
import { manualTimers, openHostSession, type FrameLink } from '../../../native/protocol';
import { findTetherInterface } from '../../../native/usb/endpoints';
import { UsbFrameLink } from '../../../native/usb/frame-link';
import { VirtualClock } from '../../../native/virtual/clock';
import { createVirtualPhone } from '../../../native/virtual/create';
import type { VirtualUsbDevice } from '../../../native/virtual/usb-device';

/** Host A's link until its process is killed: from then on nothing it starts ever settles. */
class KillableLink implements FrameLink {
  private dead = false;
  constructor(private readonly inner: FrameLink) {}
  kill(): void {
    this.dead = true;
  }
  private guard<T>(p: Promise<T>): Promise<T> {
    const never = new Promise<T>(() => {});
    return p.then(
      (v) => (this.dead ? never : v),
      (e: unknown) => (this.dead ? never : Promise.reject(e)),
    );
  }
  send(frame: Uint8Array): Promise<void> {
    return this.dead ? new Promise(() => {}) : this.guard(this.inner.send(frame));
  }
  receive(maxLength: number): Promise<Uint8Array> {
    return this.dead ? new Promise(() => {}) : this.guard(this.inner.receive(maxLength));
  }
  close(): Promise<void> {
    return this.dead ? Promise.resolve() : this.inner.close();
  }
}

/**
 * Host A pairs, then its process dies: no RESET, its transfers gone. The phone's session goes on:
 * it queues two display events for A and then ends (as at its heartbeat timeout) with a RESET A
 * never reads. Resolves with the number of frames left in the phone's IN pipe.
 */
async function leaveOldSessionInPipe(device: VirtualUsbDevice): Promise<number> {
  await device.open();
  await device.claimInterface(1);
  const linkA = new KillableLink(new UsbFrameLink(device, findTetherInterface(device)));
  const a = await openHostSession(linkA, { timers: manualTimers() });
  await a.confirmPairing();
  linkA.kill();
  device.wire.abortHostTransfers();
  const old = device.host!.session!;
  expect(old.state).toBe('open');
  await old.emit('display', { text: 'for host A 1' });
  await old.emit('display', { text: 'for host A 2' });
  await old.close();
  const { inFramesQueued, inFramesDelivered } = device.wire.counters;
  return inFramesQueued - inFramesDelivered;
}

it('a new host opens a session on a phone whose IN pipe holds an old session’s frames, with no USB reset', async () => {
  const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
  const wire = device.wire;
  const stale = await leaveOldSessionInPipe(device);
  expect(stale).toBeGreaterThanOrEqual(3); // two events and the RESET at least
  const b = await openHostSession(new UsbFrameLink(device, findTetherInterface(device)), { handshakeTimeoutMs: 5000, timers: manualTimers() });
  expect(b.identity.modelId).toBe('CX600');
  expect(b.paired).toBe(false); // nothing of A's session carried over
  // Same enumeration, same pipes: no reset happened.
  expect(device.wire).toBe(wire);
  expect(wire.isGone).toBe(false);
  // Every leftover was either skipped by the host (read before its HELLO reached the phone) or
  // dropped by the phone when the HELLO came.
  expect(b.staleFramesSkipped + wire.counters.inFramesDiscarded).toBe(stale);
  expect(wire.counters.inFramesDiscarded).toBeGreaterThan(0);
  await b.confirmPairing();
  const seen: string[] = [];
  b.on('display', (e) => seen.push(e.text));
  await device.host!.session!.emit('display', { text: 'for host B' });
  await b.call('status', {});
  expect(seen).toContain('for host B');
  expect(seen.filter((t) => t.startsWith('for host A'))).toEqual([]);
  await b.close();
});

it('garbage in place of the phone’s WELCOME still fails closed', async () => {
  const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
  await leaveOldSessionInPipe(device);
  // The next frame the phone queues is the new session's WELCOME: break its magic.
  device.host!.faults.set({ corruptFrame: { direction: 'in', index: device.wire.counters.inFramesQueued, offset: 0 } });
  await expect(
    openHostSession(new UsbFrameLink(device, findTetherInterface(device)), { handshakeTimeoutMs: 5000, timers: manualTimers() }),
  ).rejects.toMatchObject({ code: 'PROTOCOL_BAD_MAGIC' });
});

it('a new host whose HELLO reaches the phone while the old session is still open takes over, with no USB reset', async () => {
  const device = await createVirtualPhone({ model: 'CX600', clock: new VirtualClock() });
  await device.open();
  await device.claimInterface(1);
  const linkA = new KillableLink(new UsbFrameLink(device, findTetherInterface(device)));
  const a = await openHostSession(linkA, { timers: manualTimers() });
  await a.confirmPairing();
  linkA.kill();
  device.wire.abortHostTransfers();
  const old = device.host!.session!;
  await old.emit('display', { text: 'for host A' }); // left in the IN pipe
  expect(old.state).toBe('open');
  const b = await openHostSession(new UsbFrameLink(device, findTetherInterface(device)), { handshakeTimeoutMs: 5000, timers: manualTimers() });
  // The old session ended quietly (no RESET for nobody) when the HELLO came.
  expect(await old.closed).toMatchObject({ code: 'PROTOCOL_PEER_RESET', detail: { peerCode: 'NEW_SESSION' } });
  expect(b.paired).toBe(false);
  expect(device.host!.session).not.toBe(old);
  await b.confirmPairing();
  expect((await b.call('status', {})).registration.state).toBe('unregistered');
  await b.close();
});
