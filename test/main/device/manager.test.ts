import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { manualTimers } from '../../../native/protocol';
import { ManualSource } from '../../../native/usb/source';
import { createVirtualPhone, MemoryPhoneStore, VirtualClock } from '../../../native/virtual';
import { openFleet } from '../../../main/device/fleet';
import { DeviceManager, type FleetEvent } from '../../../main/device/manager';
import { configuration, FakeDevice } from '../../native/usb/fake-device';

describe('DeviceManager', () => {
  it('lists phones from every source in one list, each with its source, speed and identity', async () => {
    const usb = new ManualSource('usb');
    const virtual = new ManualSource('virtual');
    const clock = new VirtualClock();
    const a = await createVirtualPhone({ model: 'CX700', serial: 'CX700-A', speed: 'full', bus: usb, clock });
    const b = await createVirtualPhone({ model: 'HP4120', serial: 'HP4120-B', bus: virtual, clock });
    // A keyboard on the same bus: no tether interface, never opened.
    const keyboard = new FakeDevice([configuration(1, [{ number: 0, alternates: [{ class: 3, subclass: 1, protocol: 1, endpoints: [] }] }])]);
    usb.plug(keyboard.asUsbDevice());
    const manager = new DeviceManager({ sources: [usb, virtual] });
    try {
      await manager.start();
      const list = manager.phones().map((p) => ({ serial: p.identity.serial, model: p.identity.modelId, source: p.source, speed: p.speed, fw: p.identity.firmwareVersion }));
      expect(list).toEqual(
        expect.arrayContaining([
          { serial: 'CX700-A', model: 'CX700', source: 'usb', speed: 'full', fw: '1.0.522.101' },
          { serial: 'HP4120-B', model: 'HP4120', source: 'virtual', speed: 'high', fw: '4.0.7577.4455' },
        ]),
      );
      expect(list).toHaveLength(2);
      expect(keyboard.calls).toEqual([]);
    } finally {
      await manager.stop();
      await a.host?.powerOff();
      await b.host?.powerOff();
    }
  });

  it('emits attach and detach, and finds a phone again by serial after an unplug', async () => {
    const bus = new ManualSource('virtual');
    const device = await createVirtualPhone({ model: 'CX600', serial: 'CX600-HOT', bus, clock: new VirtualClock() });
    const manager = new DeviceManager({ sources: [bus] });
    const events: FleetEvent[] = [];
    manager.on((e) => events.push(e));
    try {
      await manager.start();
      const first = manager.get('CX600-HOT')!;
      expect(first).toBeDefined();
      const back = manager.waitForSerial('CX600-HOT', { after: first });
      device.host!.unplug();
      expect(manager.get('CX600-HOT')).toBeUndefined();
      device.host!.plug();
      const second = await back;
      expect(second).not.toBe(first);
      expect(second.identity.serial).toBe('CX600-HOT');
      expect(events.map((e) => e.type)).toEqual(['attach', 'detach', 'attach']);
      const detach = events[1] as Extract<FleetEvent, { type: 'detach' }>;
      expect(detach.reason?.code).toBe('USB_DISCONNECTED');
      // The old attachment is dead: its calls fail with a typed error, the new one works.
      await expect(first.session.call('status', {})).rejects.toBeInstanceOf(TetherError);
      expect((await second.session.call('status', {})).registration.state).toBe('unregistered');
    } finally {
      await manager.stop();
      await device.host?.powerOff();
    }
  });

  it('a phone whose interface another program holds is reported, typed, and not listed', async () => {
    const bus = new ManualSource('usb');
    const device = await createVirtualPhone({ model: 'CX600', serial: 'CX600-BUSY', bus, clock: new VirtualClock(), faults: { interfaceBusy: true } });
    const timers = manualTimers();
    const manager = new DeviceManager({ sources: [bus], timers, maxAttachFailures: 2 });
    const errors: TetherError[] = [];
    manager.on((e) => {
      if (e.type === 'error') errors.push(e.error);
    });
    try {
      await manager.start();
      expect(manager.phones()).toEqual([]);
      expect(errors.map((e) => e.code)).toEqual(['USB_INTERFACE_BUSY']);
      expect(errors[0]!.stage).toBeNull();
      // Retried once more after the delay, then left alone until replugged.
      const second = new Promise<void>((resolve) => {
        const off = manager.on((e) => {
          if (e.type === 'error') {
            off();
            resolve();
          }
        });
      });
      timers.advance(200);
      await second;
      expect(errors).toHaveLength(2);
      expect(timers.pending).toBe(0);
      // The other program lets go and the phone is replugged: attached.
      device.host!.faults.clear();
      const back = manager.waitForSerial('CX600-BUSY');
      device.host!.unplug();
      device.host!.plug();
      expect((await back).identity.serial).toBe('CX600-BUSY');
    } finally {
      await manager.stop();
      await device.host?.powerOff();
    }
  });

  it('waitForSerial gives up with USB_REATTACH_TIMEOUT', async () => {
    const timers = manualTimers();
    const manager = new DeviceManager({ sources: [new ManualSource('virtual')], timers });
    await manager.start();
    const waiting = manager.waitForSerial('NOPE', { timeoutMs: 1000 });
    timers.advance(999);
    timers.advance(1);
    await expect(waiting).rejects.toMatchObject({ code: 'USB_REATTACH_TIMEOUT', detail: { serial: 'NOPE' } });
    await manager.stop();
  });
});

describe('openFleet', () => {
  it('without a USB bus: says why, and still lists virtual phones', async () => {
    const fleet = await openFleet({ usb: { busPresent: () => false }, virtual: [{ model: 'CX600', serial: 'CX600-F1' }, { model: 'AASTRA6725IP', speed: 'full' }] });
    try {
      expect(fleet.usbProblem?.code).toBe('USB_NO_BUS');
      const phones = fleet.manager.phones();
      expect(phones.map((p) => p.identity.modelId).sort()).toEqual(['AASTRA6725IP', 'CX600']);
      expect(phones.find((p) => p.identity.modelId === 'AASTRA6725IP')?.speed).toBe('full');
      expect(fleet.failures()).toEqual([]);
    } finally {
      await fleet.close();
    }
  });

  it('with a pairing folder, a phone paired by code once pairs by key when Tether opens its fleet again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tether-fleet-'));
    const store = new MemoryPhoneStore(); // the phone keeps its flash and key vault across both fleets
    const open = () => openFleet({ real: false, pairingFolder: join(dir, 'pairing'), virtual: [{ model: 'CX600', serial: 'CX600-PF' }], virtualPhone: { store } });
    try {
      const first = await open();
      const a = await first.manager.waitForSerial('CX600-PF');
      expect(a.session.pairing().method).toBe('code');
      await a.session.confirmPairing();
      await first.close();
      const second = await open();
      const b = await second.manager.waitForSerial('CX600-PF');
      expect(b.session.pairing()).toMatchObject({ method: 'known-host', confirmed: true });
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without a pairing store, a phone pairs by code once per run: its replug pairs by key', async () => {
    const fleet = await openFleet({ real: false, virtual: [{ model: 'CX600', serial: 'CX600-PR' }] });
    try {
      const a = await fleet.manager.waitForSerial('CX600-PR');
      await a.session.confirmPairing();
      const host = fleet.virtualPhones[0]!.host!;
      host.unplug();
      host.plug();
      const b = await fleet.manager.waitForSerial('CX600-PR', { after: a });
      expect(b.session.pairing().method).toBe('known-host');
    } finally {
      await fleet.close();
    }
  });

  it('rejects an unknown model with BAD_INPUT', async () => {
    await expect(openFleet({ real: false, virtual: [{ model: 'CX9999' }] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('DeviceManager listeners', () => {
  it('a listener that throws breaks neither the fleet nor the other listeners (no unhandled rejection)', async () => {
    const bus = new ManualSource('virtual');
    const device = await createVirtualPhone({ model: 'CX600', serial: 'CX600-THROW', bus, clock: new VirtualClock() });
    const manager = new DeviceManager({ sources: [bus] });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const events: string[] = [];
    manager.on(() => {
      throw new Error('listener bug');
    });
    manager.on((e) => events.push(e.type));
    try {
      await manager.start();
      const first = manager.get('CX600-THROW')!;
      expect(first).toBeDefined();
      const back = manager.waitForSerial('CX600-THROW', { after: first });
      device.host!.unplug();
      device.host!.plug();
      const second = await back;
      expect(second.session.state).toBe('open');
      expect(events).toEqual(['attach', 'detach', 'attach']);
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await manager.stop();
      await device.host?.powerOff();
    }
  });
});
