import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { FirmwareSlots, factoryFirmware } from '../../../native/virtual/phone/firmware';
import { MemoryPhoneStore, type FirmwareRecord } from '../../../native/virtual/phone/store';

function make(store = new MemoryPhoneStore(), record: FirmwareRecord = factoryFirmware('1.0.0.1'), persistEvery = 1) {
  const saved: FirmwareRecord[] = [];
  const slots = new FirmwareSlots(record, { store, serial: 'FW1', save: async (r) => void saved.push(r), log: () => {} }, 1 << 20, persistEvery);
  return { slots, store, saved };
}

function img(size: number, seed = 3): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * seed + 11) & 0xff;
  return b;
}

const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof TetherError ? e.code : String(e);
  }
}

/** No slot may be bootable ('pending', 'active', 'committed') unless its bytes hash to its recorded SHA-256. */
async function assertNoCorruptBootableSlot(slots: FirmwareSlots, store: MemoryPhoneStore): Promise<void> {
  for (const name of ['a', 'b'] as const) {
    const s = slots.record.slots[name];
    if (s.state === 'pending' || s.state === 'active' || s.state === 'verified' || (s.state === 'committed' && s.sha256 !== null)) {
      const bytes = await store.readImage('FW1', name, s.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(s.sha256);
    }
  }
}

describe('firmware slots', () => {
  it('runs begin → data → verify → activate → boot (trial) → commit, keeping the old image as backup', async () => {
    const { slots, store } = make();
    const image = img(5000);
    const b = await slots.begin({ size: 5000, version: '2.0.0.0', sha256: sha(image) });
    expect(b).toMatchObject({ slot: 'b', have: 0 });
    expect(await slots.write({ transferId: b.transferId, offset: 0, data: image.subarray(0, 3000) })).toBe(3000);
    expect(await code(slots.verify(b.transferId))).toBe('DEVICE_FIRMWARE_INCOMPLETE');
    expect(await code(slots.activate(b.transferId))).toBe('DEVICE_FIRMWARE_NOT_VERIFIED');
    await slots.write({ transferId: b.transferId, offset: 3000, data: image.subarray(3000) });
    await slots.verify(b.transferId);
    expect(slots.status().slots[1]).toEqual({ slot: 'b', version: '2.0.0.0', state: 'verified' });
    expect(await slots.activate(b.transferId)).toBe('b');
    expect(slots.runningVersion).toBe('1.0.0.1'); // not until the reboot
    await slots.boot();
    expect(slots.status()).toMatchObject({ running: 'b', runningVersion: '2.0.0.0', pendingCommit: true });
    expect(await code(slots.begin({ size: 10, version: 'x', sha256: sha(img(10)) }))).toBe('DEVICE_BAD_REQUEST');
    await slots.commit();
    expect(slots.status().slots).toEqual([
      { slot: 'a', version: '1.0.0.1', state: 'committed' },
      { slot: 'b', version: '2.0.0.0', state: 'committed' },
    ]);
    await assertNoCorruptBootableSlot(slots, store);
    expect(await slots.rollback()).toEqual({ slot: 'a', version: '1.0.0.1' });
    await slots.boot();
    expect(slots.status()).toMatchObject({ running: 'a', pendingCommit: false });
  });

  it('falls back when a trial image is not committed before the next boot, or fails to boot', async () => {
    const { slots } = make();
    const image = img(100);
    let b = await slots.begin({ size: 100, version: '2', sha256: sha(image) });
    await slots.write({ transferId: b.transferId, offset: 0, data: image });
    await slots.verify(b.transferId);
    await slots.activate(b.transferId);
    await slots.boot();
    expect(slots.runningVersion).toBe('2');
    await slots.boot(); // rebooted without commit
    expect(slots.status()).toMatchObject({ running: 'a', runningVersion: '1.0.0.1', pendingCommit: false });
    expect(slots.status().slots[1]!.state).toBe('verified');

    b = await slots.begin({ size: 100, version: '3', sha256: sha(image) });
    await slots.write({ transferId: b.transferId, offset: 0, data: image });
    await slots.verify(b.transferId);
    await slots.activate(b.transferId);
    const outcome = await slots.boot(() => true);
    expect(outcome.slot).toBe('a');
    expect(slots.status().slots[1]).toEqual({ slot: 'b', version: null, state: 'empty' });
  });

  it('the boot loader re-checks the SHA-256: flash changed after verify never boots, not even as a rollback target', async () => {
    const { slots, store } = make();
    const image = img(3000);
    const b = await slots.begin({ size: 3000, version: '2', sha256: sha(image) });
    await slots.write({ transferId: b.transferId, offset: 0, data: image });
    await slots.verify(b.transferId);
    await slots.activate(b.transferId);
    await store.writeImage('FW1', 'b', 1500, Uint8Array.of(0xee)); // a flipped byte after verify
    let booted = false;
    const outcome = await slots.boot(() => {
      booted = true;
      return false;
    });
    expect(outcome).toMatchObject({ slot: 'a', version: '1.0.0.1' });
    expect(outcome.note).toContain('SHA-256');
    expect(booted).toBe(false);
    expect(slots.status().slots[1]).toEqual({ slot: 'b', version: null, state: 'empty' });

    // A committed backup that rotted is not rolled back to either.
    const c = await slots.begin({ size: 3000, version: '3', sha256: sha(image) });
    await slots.write({ transferId: c.transferId, offset: 0, data: image });
    await slots.verify(c.transferId);
    await slots.activate(c.transferId);
    await slots.boot();
    await slots.commit();
    expect(slots.status()).toMatchObject({ running: 'b', runningVersion: '3' });
    const d = await slots.begin({ size: 3000, version: '4', sha256: sha(image) });
    await slots.write({ transferId: d.transferId, offset: 0, data: image });
    await slots.verify(d.transferId);
    await slots.activate(d.transferId);
    await slots.boot();
    await slots.commit();
    expect(slots.status()).toMatchObject({ running: 'a', runningVersion: '4' });
    await slots.rollback(); // back to '3' in slot b …
    await store.writeImage('FW1', 'b', 0, Uint8Array.of(0x00, 0x01)); // … whose flash has changed
    const back = await slots.boot();
    expect(back).toMatchObject({ slot: 'a', version: '4' });
    expect(back.note).toContain('SHA-256');
    const running = slots.record.slots.a;
    expect(createHash('sha256').update(await store.readImage('FW1', 'a', running.size)).digest('hex')).toBe(running.sha256);
  });

  it('a verified slot that lost bytes in a power cut is receiving again', async () => {
    const store = new MemoryPhoneStore();
    const { slots } = make(store);
    const image = img(4000);
    const b = await slots.begin({ size: 4000, version: '2', sha256: sha(image) });
    await slots.write({ transferId: b.transferId, offset: 0, data: image });
    await slots.verify(b.transferId);
    expect(slots.status().slots[1]!.state).toBe('verified');
    const held = await store.readImage('FW1', 'b', 4000);
    await store.clearImage('FW1', 'b');
    await store.writeImage('FW1', 'b', 0, held.subarray(0, 1000));
    const again = make(store, slots.record).slots;
    await again.reconcile();
    expect(again.status().slots[1]).toEqual({ slot: 'b', version: null, state: 'receiving' });
    expect(again.status().transfer).toMatchObject({ have: 1000, verified: false });
    expect(await code(again.activate(b.transferId))).toBe('DEVICE_FIRMWARE_NOT_VERIFIED');
  });

  it('empties the slot when the image does not match its SHA-256', async () => {
    const { slots, store } = make();
    const image = img(2000);
    const b = await slots.begin({ size: 2000, version: '2', sha256: sha(img(2000, 5)) });
    await slots.write({ transferId: b.transferId, offset: 0, data: image });
    expect(await code(slots.verify(b.transferId))).toBe('DEVICE_FIRMWARE_HASH_MISMATCH');
    expect(slots.status().slots[1]!.state).toBe('empty');
    expect(slots.status().transfer).toBeNull();
    expect(await store.imageLength('FW1', 'b')).toBe(0);
    expect(await code(slots.activate(b.transferId))).toBe('DEVICE_FIRMWARE_NO_TRANSFER');
  });

  it('rejects data out of order, past the end, or for another transfer; skips data it already holds', async () => {
    const { slots } = make();
    const image = img(1000);
    const b = await slots.begin({ size: 1000, version: '2', sha256: sha(image) });
    expect(await code(slots.write({ transferId: b.transferId + 1, offset: 0, data: image }))).toBe('DEVICE_FIRMWARE_NO_TRANSFER');
    expect(await code(slots.write({ transferId: b.transferId, offset: 10, data: image.subarray(10, 20) }))).toBe('DEVICE_FIRMWARE_OUT_OF_RANGE');
    expect(await code(slots.write({ transferId: b.transferId, offset: 0, data: img(1001) }))).toBe('DEVICE_FIRMWARE_OUT_OF_RANGE');
    await slots.write({ transferId: b.transferId, offset: 0, data: image.subarray(0, 600) });
    expect(await slots.write({ transferId: b.transferId, offset: 500, data: image.subarray(500, 700) })).toBe(700);
    expect(await slots.write({ transferId: b.transferId, offset: 0, data: image.subarray(0, 100) })).toBe(700);
    await slots.write({ transferId: b.transferId, offset: 700, data: image.subarray(700) });
    await slots.verify(b.transferId);
    expect(await code(slots.begin({ size: 2 << 20, version: 'big', sha256: sha(image) }))).toBe('DEVICE_STORAGE_FULL');
  });

  it('resumes from any offset after a power cut, and never leaves a corrupt slot bootable', async () => {
    const size = 4096;
    const image = img(size, 7);
    const digest = sha(image);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: size }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 3000 }),
        async (cuts, chunkSizes, persistEvery) => {
          const store = new MemoryPhoneStore();
          let { slots, saved } = make(store, undefined, persistEvery);
          let first = await slots.begin({ size, version: '9', sha256: digest });
          for (const cut of cuts) {
            // Send chunks from `have` until the cut, then "lose power": rebuild from the last saved record.
            let have = first.have;
            let i = 0;
            while (have < Math.min(cut, size)) {
              const n = Math.min(chunkSizes[i++ % chunkSizes.length]!, size - have);
              have = await slots.write({ transferId: first.transferId, offset: have, data: image.subarray(have, have + n) });
            }
            // What reached flash last (nothing new if no chunk was written this round).
            const flashed = saved[saved.length - 1] ?? slots.record;
            ({ slots, saved } = make(store, flashed, persistEvery));
            await slots.reconcile();
            await slots.boot();
            const again = await slots.begin({ size, version: '9', sha256: digest });
            expect(again.transferId).toBe(first.transferId);
            // The phone may re-ask bytes it held (not yet counted in flash), never claim more.
            expect(again.have).toBeLessThanOrEqual(have);
            expect(again.have).toBeGreaterThanOrEqual(Math.max(first.have, have - persistEvery - 1500));
            first = again;
            await assertNoCorruptBootableSlot(slots, store);
          }
          let have = first.have;
          if (have < size) have = await slots.write({ transferId: first.transferId, offset: have, data: image.subarray(have) });
          expect(have).toBe(size);
          await slots.verify(first.transferId);
          await assertNoCorruptBootableSlot(slots, store);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never boots an unverified image whatever order operations come in', async () => {
    const image = img(300);
    const bad = img(300, 9);
    const digest = sha(image);
    const op = fc.constantFrom('begin', 'writeGood', 'writeBad', 'verify', 'activate', 'boot', 'bootFail', 'commit', 'rollback');
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const { slots, store } = make();
        let id = 0;
        for (const o of ops) {
          const t = slots.record.transfer;
          const run = async () => {
            if (o === 'begin') id = (await slots.begin({ size: 300, version: 'N', sha256: digest })).transferId;
            if (o === 'writeGood' && t) await slots.write({ transferId: id, offset: t.have, data: image.subarray(t.have) });
            if (o === 'writeBad' && t) await slots.write({ transferId: id, offset: t.have, data: bad.subarray(t.have) });
            if (o === 'verify') await slots.verify(id);
            if (o === 'activate') await slots.activate(id);
            if (o === 'boot') await slots.boot();
            if (o === 'bootFail') await slots.boot(() => true);
            if (o === 'commit') await slots.commit();
            if (o === 'rollback') await slots.rollback();
          };
          await run().catch((e: unknown) => {
            if (!(e instanceof TetherError)) throw e;
          });
          await assertNoCorruptBootableSlot(slots, store);
          const running = slots.record.slots[slots.record.running];
          expect(['active', 'committed']).toContain(running.state);
        }
      }),
      { numRuns: 200 },
    );
  });
});
