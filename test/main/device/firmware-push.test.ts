import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { manualTimers } from '../../../native/protocol';
import { fileImage, streamImage } from '../../../main/device/firmware-image';
import { pushFirmware, type FirmwareProgress } from '../../../main/device/firmware-push';
import { assertFlashSound, bytesImage, prng, randomImage, rig } from './harness';

const NEW = '4.0.7577.4600';
const OLD = '4.0.7577.4455';
const dir = mkdtempSync(join(tmpdir(), 'tether-fw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('firmware push: every step', () => {
  it('begins, streams by offset, verifies, activates, waits for the reboot and commits', async () => {
    const r = await rig();
    try {
      const rand = prng(7);
      const bytes = randomImage(300_000, rand);
      const path = join(dir, 'image.bin');
      writeFileSync(path, bytes);
      const image = await fileImage(path, NEW, { chunkBytes: 64 * 1024 });
      expect(Buffer.from(image.sha256).toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
      const events: FirmwareProgress[] = [];
      const result = await pushFirmware({ phones: r.manager, serial: r.serial, image, onProgress: (p) => events.push(p) });
      expect(result).toMatchObject({ version: NEW, slot: 'b', resumes: 0, bytesSent: bytes.byteLength, alreadyCurrent: false });
      const phases = events.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1]);
      expect(phases).toEqual(['waiting-for-phone', 'sending', 'verifying', 'activating', 'rebooting', 'waiting-for-phone', 'committing', 'done']);
      const sending = events.filter((e): e is Extract<FirmwareProgress, { phase: 'sending' }> => e.phase === 'sending');
      expect(sending.at(-1)).toMatchObject({ sent: bytes.byteLength, total: bytes.byteLength, resumedFrom: 0 });
      expect(sending.every((e, i) => i === 0 || e.sent >= sending[i - 1]!.sent)).toBe(true);
      const status = r.device.host!.phone.firmwareStatus();
      expect(status).toMatchObject({ running: 'b', runningVersion: NEW, pendingCommit: false });
      expect(r.manager.get(r.serial)?.identity.firmwareVersion).toBe(NEW);
      await assertFlashSound(r);
      // Pushing the same version again sends nothing.
      const again = await pushFirmware({ phones: r.manager, serial: r.serial, image });
      expect(again).toMatchObject({ alreadyCurrent: true, bytesSent: 0 });
    } finally {
      await r.close();
    }
  });

  it('a call that times out with the session still up: the pusher closes it, the fleet re-attaches the phone, the push completes', async () => {
    // The phone answers the first verify with TIMEOUT (as a timed-out call would end): the pusher
    // treats it as a lost link, closes that session itself and waits for the phone by serial.
    const r = await rig({ faults: { refuse: { operation: 'firmwareVerify', code: 'TIMEOUT', times: 1 } } });
    try {
      const image = bytesImage(randomImage(50_000, prng(11)), NEW);
      const events: FirmwareProgress[] = [];
      const result = await pushFirmware({ phones: r.manager, serial: r.serial, image, reattachTimeoutMs: 10_000, onProgress: (p) => events.push(p) });
      expect(result).toMatchObject({ version: NEW, resumes: 1 });
      expect(events.some((e) => e.phase === 'waiting-for-phone' && e.reason === 'link-lost')).toBe(true);
      await assertFlashSound(r);
    } finally {
      await r.close();
    }
  });

  it('a refused begin is a typed error of stage 4 (check-update)', async () => {
    const r = await rig({ faults: { refuse: { operation: 'firmwareBegin', code: 'DEVICE_STORAGE_FULL' } } });
    try {
      const err = await pushFirmware({ phones: r.manager, serial: r.serial, image: bytesImage(randomImage(1000, prng(1)), NEW) }).catch((e: unknown) => e);
      expect(TetherError.is(err, 'DEVICE_STORAGE_FULL')).toBe(true);
      expect((err as TetherError).stage).toBe('check-update');
      await assertFlashSound(r);
    } finally {
      await r.close();
    }
  });

  it('a wrong SHA-256 is sent afresh once, then FIRMWARE_VERIFY_FAILED; the running slot stays', async () => {
    const r = await rig();
    try {
      const bytes = randomImage(50_000, prng(2));
      const lie = streamImage({ size: bytes.byteLength, version: NEW, sha256: new Uint8Array(32).fill(9) }, async function* (offset) {
        yield bytes.subarray(offset);
      });
      const err = await pushFirmware({ phones: r.manager, serial: r.serial, image: lie }).catch((e: unknown) => e);
      expect(TetherError.is(err, 'FIRMWARE_VERIFY_FAILED')).toBe(true);
      expect((err as TetherError).stage).toBe('check-update');
      expect(r.device.host!.phone.firmwareStatus()).toMatchObject({ running: 'a', runningVersion: OLD });
      await assertFlashSound(r);
    } finally {
      await r.close();
    }
  });

  it('a new image that fails to boot is FIRMWARE_BOOT_FAILED and the phone stays on the old one', async () => {
    const r = await rig({ faults: { failNextBoot: true } });
    try {
      const err = await pushFirmware({ phones: r.manager, serial: r.serial, image: bytesImage(randomImage(40_000, prng(3)), NEW) }).catch((e: unknown) => e);
      expect(TetherError.is(err, 'FIRMWARE_BOOT_FAILED')).toBe(true);
      expect((err as TetherError).stage).toBe('check-update');
      expect(r.device.host!.phone.firmwareStatus()).toMatchObject({ runningVersion: OLD });
      await assertFlashSound(r);
    } finally {
      await r.close();
    }
  });

  it('an image file that changes during the push is FIRMWARE_IMAGE_CHANGED; a missing one FIRMWARE_IMAGE_UNREADABLE', async () => {
    const path = join(dir, 'changing.bin');
    writeFileSync(path, randomImage(10_000, prng(4)));
    const image = await fileImage(path, NEW);
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    const r = await rig();
    try {
      const err = await pushFirmware({ phones: r.manager, serial: r.serial, image }).catch((e: unknown) => e);
      expect(TetherError.is(err, 'FIRMWARE_IMAGE_CHANGED')).toBe(true);
      expect((err as TetherError).stage).toBe('check-update');
    } finally {
      await r.close();
    }
    const missing = await fileImage(join(dir, 'absent.bin'), NEW).catch((e: unknown) => e);
    expect(TetherError.is(missing, 'FIRMWARE_IMAGE_UNREADABLE')).toBe(true);
  });

  it('a phone that never comes back is USB_REATTACH_TIMEOUT with stage check-update', async () => {
    const timers = manualTimers();
    const r = await rig({ faults: { unplugAtByte: { byte: 20_000 } }, replugAfterMs: null, timers });
    try {
      const err = await pushFirmware({
        phones: r.manager,
        serial: r.serial,
        image: bytesImage(randomImage(60_000, prng(5)), NEW),
        reattachTimeoutMs: 60_000,
        // The pusher starts waiting right after saying so: then a minute passes on the fake clock.
        onProgress: (p) => {
          if (p.phase === 'waiting-for-phone' && p.reason === 'link-lost') queueMicrotask(() => timers.advance(60_000));
        },
      }).catch((e: unknown) => e);
      expect(TetherError.is(err, 'USB_REATTACH_TIMEOUT')).toBe(true);
      expect((err as TetherError).stage).toBe('check-update');
      await assertFlashSound(r);
    } finally {
      await r.close();
    }
  });
});

describe('firmware push survives the phone going away', () => {
  it('unplugged at 120 random points: resumes from what the phone holds, SHA-256 matches, flash never corrupt', async () => {
    const points = 120;
    const seed = Number(process.env.TETHER_SWEEP_SEED ?? 20261125);
    const rand = prng(seed);
    let resumedMidImage = 0;
    let cutBeforeActivation = 0;
    for (let i = 0; i < points; i++) {
      const size = 8_000 + Math.floor(rand() * 120_000);
      // Host → phone bytes of this attachment: handshake and calls (~2 KB) plus the image and its framing.
      const byte = Math.floor(rand() * (size + 6_000));
      const bytes = randomImage(size, rand);
      const image = bytesImage(bytes, NEW, 4096 + Math.floor(rand() * 40_000));
      const r = await rig({ serial: `CX600-SWEEP${String(i).padStart(3, '0')}`, faults: { unplugAtByte: { byte } } });
      let activated = false;
      let cut = false;
      const checks: Promise<void>[] = [];
      const off = r.manager.on((e) => {
        if (e.type === 'detach') {
          if (!activated) cut = true;
          checks.push(assertFlashSound(r));
        }
      });
      try {
        const resumedFrom: number[] = [];
        const result = await pushFirmware({
          phones: r.manager,
          serial: r.serial,
          image,
          onProgress: (p) => {
            if (p.phase === 'sending' && p.sent === p.resumedFrom) resumedFrom.push(p.resumedFrom);
            if (p.phase === 'activating') activated = true;
          },
        });
        await Promise.all(checks);
        if (cut) cutBeforeActivation++;
        expect(result.version, `point ${i} (seed ${seed}, unplug at byte ${byte} of ${size})`).toBe(NEW);
        const status = r.device.host!.phone.firmwareStatus();
        expect(status).toMatchObject({ runningVersion: NEW, pendingCommit: false });
        const record = (await r.store.load(r.serial))!;
        const slot = record.firmware.slots[status.running];
        expect(slot.sha256, `point ${i}`).toBe(createHash('sha256').update(bytes).digest('hex'));
        await assertFlashSound(r);
        // A resume never re-sends from 0 what the phone already held.
        if (resumedFrom.length > 1 && resumedFrom.at(-1)! > 0) resumedMidImage++;
        expect(result.bytesSent).toBeLessThanOrEqual(size * 2);
      } finally {
        off();
        await r.close();
      }
    }
    // Enough of the points fell inside the image for the resume path to be exercised for real.
    expect(resumedMidImage).toBeGreaterThan(points / 3);
    // And at least 100 points really cut the cable before the new image was activated.
    expect(cutBeforeActivation).toBeGreaterThanOrEqual(100);
  }, 120_000);

  it('the phone reboots mid-transfer: waits for it by serial and resumes from its persisted count', async () => {
    const bytes = randomImage(200_000, prng(11));
    // Full speed: the phone cuts power 20 ms after the byte, while the image is still streaming.
    const r = await rig({ speed: 'full', faults: { rebootDuringUpdate: { atByte: 90_000 } } });
    try {
      const resumes: number[] = [];
      const result = await pushFirmware({
        phones: r.manager,
        serial: r.serial,
        image: bytesImage(bytes, NEW),
        onProgress: (p) => {
          if (p.phase === 'sending' && p.sent === p.resumedFrom) resumes.push(p.resumedFrom);
        },
      });
      expect(result.resumes).toBe(1);
      expect(resumes[0]).toBe(0);
      expect(resumes[1]).toBeGreaterThanOrEqual(90_000);
      // The second attempt sends only what the phone did not hold.
      expect(result.bytesSent).toBeLessThanOrEqual(2 * bytes.byteLength - resumes[1]!);
      expect(r.device.host!.phone.firmwareStatus().runningVersion).toBe(NEW);
      await assertFlashSound(r);
    } finally {
      await r.close();
    }
  });

  it('a protocol reset mid-push (corrupt frame) re-attaches on the same device and resumes', async () => {
    const bytes = randomImage(150_000, prng(12));
    const r = await rig({ faults: { corruptFrame: { direction: 'out', index: 12 } } });
    try {
      const reasons: (string | undefined)[] = [];
      r.manager.on((e) => {
        if (e.type === 'detach') reasons.push(e.reason?.code);
      });
      const result = await pushFirmware({ phones: r.manager, serial: r.serial, image: bytesImage(bytes, NEW) });
      expect(result.resumes).toBe(1);
      expect(r.device.host!.phone.firmwareStatus().runningVersion).toBe(NEW);
      // No unplug: the session was reset on a phone that stayed on the bus, then the reboot.
      expect(reasons).toEqual(['PROTOCOL_PEER_RESET', 'USB_DISCONNECTED']);
      await assertFlashSound(r);
    } finally {
      await r.close();
    }
  });

  it('a USB bus reset mid-push (the host resets the port): the push re-attaches and resumes', async () => {
    const bytes = randomImage(400_000, prng(15));
    const r = await rig({ speed: 'full' });
    try {
      let reset = false;
      const resumedFrom: number[] = [];
      const result = await pushFirmware({
        phones: r.manager,
        serial: r.serial,
        image: bytesImage(bytes, NEW),
        onProgress: (p) => {
          if (p.phase !== 'sending') return;
          if (p.sent === p.resumedFrom) resumedFrom.push(p.resumedFrom);
          if (!reset && p.sent > 200_000) {
            reset = true;
            void r.manager.get(r.serial)!.device.reset();
          }
        },
      });
      expect(reset).toBe(true);
      expect(result.resumes).toBe(1);
      expect(resumedFrom).toHaveLength(2);
      expect(r.device.host!.phone.firmwareStatus().runningVersion).toBe(NEW);
      const record = (await r.store.load(r.serial))!;
      expect(record.firmware.slots.b.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      await assertFlashSound(r);
    } finally {
      await r.close();
    }
  });

  it('an endpoint stall mid-push: the halt is cleared, the session re-established, the push completes', async () => {
    const bytes = randomImage(120_000, prng(14));
    const r = await rig({ faults: { stallAfterFrames: { direction: 'out', frames: 8 } } });
    try {
      const reasons: (string | undefined)[] = [];
      r.manager.on((e) => {
        if (e.type === 'detach') reasons.push(e.reason?.code);
      });
      const result = await pushFirmware({ phones: r.manager, serial: r.serial, image: bytesImage(bytes, NEW) });
      expect(result.resumes).toBe(1);
      expect(reasons[0]).toBe('USB_STALL');
      expect(r.device.host!.phone.firmwareStatus().runningVersion).toBe(NEW);
      await assertFlashSound(r);
    } finally {
      await r.close();
    }
  });

  it('USB reset (unplug and re-enumerate) during verify, activate and commit', async () => {
    for (const operation of ['firmwareBegin', 'firmwareVerify', 'firmwareActivate', 'firmwareCommit', 'firmwareStatus']) {
      const bytes = randomImage(30_000, prng(13));
      const r = await rig({ serial: `CX600-OP${operation.length}`, faults: { unplugAfterOperation: { operation } } });
      try {
        const result = await pushFirmware({ phones: r.manager, serial: r.serial, image: bytesImage(bytes, NEW) });
        expect(result.version, operation).toBe(NEW);
        expect(result.resumes, operation).toBe(1);
        const status = r.device.host!.phone.firmwareStatus();
        expect(status, operation).toMatchObject({ runningVersion: NEW, pendingCommit: false });
        await assertFlashSound(r);
      } finally {
        await r.close();
      }
    }
  });
});
