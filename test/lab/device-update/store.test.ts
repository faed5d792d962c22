import { afterEach, describe, expect, it } from 'vitest';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { DeviceIdentity } from '../../../common/pool/device-update-wire';
import { DeviceUpdateStore, importDeviceUpdateImage, labSignature, testImage, testImageChunks } from '../../../lab/device-update';
import { tempDir } from '../support';

const kind = { deviceType: 'UCPhone', vendor: 'Polycom', model: 'CX600', revision: 'A', locale: 'ENU' };
const phone = (version: string | null, over: Partial<DeviceIdentity> = {}): DeviceIdentity => ({
  ...kind,
  mac: '00-04-F2-00-00-01',
  serial: 'SN0001',
  modules: version === null ? [] : [{ fileName: 'CPE.nbt', version, timestamp: '' }],
  ...over,
});

const dirs: { remove: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
async function fresh() {
  const t = tempDir('tether-du-');
  dirs.push(t);
  return { store: await DeviceUpdateStore.open(t.dir), dir: t.dir };
}

describe('lab Device Update store', () => {
  it('imports an image (streamed and hashed) as pending, which only test devices get', async () => {
    const { store } = await fresh();
    const image = await store.importImage({ ...kind, version: '4.0.7577.4420', data: testImageChunks('v4420', 200_000, 4096) });
    const bytes = await testImage('v4420', 200_000);
    expect(image).toMatchObject({ size: 200_000, sha256: createHash('sha256').update(bytes).digest('hex'), fileName: 'CPE.nbt', signatureFileName: 'CPE.cat' });
    const onDisk = await readFile(store.fileFor('UCPhone/Polycom/CX600/A/ENU/4.0.7577.4420/CPE/CPE.nbt')!);
    expect(Buffer.compare(onDisk, Buffer.from(bytes))).toBe(0);
    expect(store.rule(kind)).toMatchObject({ pending: '4.0.7577.4420', approved: null });

    expect(store.select(phone('4.0.7577.4366'))).toMatchObject({ image: null, why: expect.stringMatching(/test devices only/) });
    await store.addTestDevice({ type: 'MACAddress', identifier: '00:04:f2:00:00:01' });
    expect(store.select(phone('4.0.7577.4366'))).toMatchObject({ image: { version: '4.0.7577.4420' }, why: 'pending-for-test-device' });
    await store.addTestDevice({ type: 'SerialNumber', identifier: 'SN0002' });
    expect(store.select(phone('4.0.7577.4366', { mac: '00-04-F2-00-00-02', serial: 'SN0002' })).why).toBe('pending-for-test-device');
    expect(store.select(phone('4.0.7577.4366', { mac: '00-04-F2-00-00-03', serial: 'SN0003' })).image).toBeNull();
    // Another kind (revision B) has no rule.
    expect(store.select(phone('1.0', { revision: 'B' })).why).toMatch(/no update rule/);
  });

  it('stores the signature file beside the image: the given bytes, or the lab\'s own blob when none is given', async () => {
    const { store, dir } = await fresh();
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const given = new Uint8Array([0x30, 0x82, 1, 2, 3]);
    const withSig = await store.importImage({ ...kind, version: '1.0.0.1', data: await testImage('a', 100), signature: given });
    expect(withSig).toMatchObject({ signatureFileName: 'CPE.cat', signatureSize: 5, signatureSha256: sha(given) });
    expect(Buffer.compare(await readFile(store.fileFor('UCPhone/Polycom/CX600/A/ENU/1.0.0.1/CPE/CPE.cat')!), Buffer.from(given))).toBe(0);

    // No signature given: the lab writes its opaque blob, which names the image's SHA-256.
    const made = await importDeviceUpdateImage(dir, { ...kind, version: '1.0.0.2', data: await testImage('b', 100), signatureFileName: 'CPE2.cat' });
    const blob = await readFile(store.fileFor('UCPhone/Polycom/CX600/A/ENU/1.0.0.2/CPE/CPE2.cat')!);
    expect(Buffer.compare(blob, Buffer.from(labSignature(made)))).toBe(0);
    expect(blob.toString()).toContain(`sha256=${made.sha256}`);
    expect(made).toMatchObject({ signatureSize: blob.length, signatureSha256: sha(blob) });
    // The sizes and hashes survive a restart (they go into every answer).
    const again = await DeviceUpdateStore.open(dir);
    expect(again.images().find((i) => i.version === '1.0.0.2')).toMatchObject({ signatureSize: blob.length, signatureSha256: sha(blob) });
    // The image cannot be its own signature file, and an oversized signature is refused.
    await expect(store.importImage({ ...kind, version: '1.0.0.3', fileName: 'X.cat', signatureFileName: 'X.cat', data: new Uint8Array(1) })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(store.importImage({ ...kind, version: '1.0.0.3', data: new Uint8Array(1), signature: new Uint8Array(16 * 1024 * 1024 + 1) })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('approved versions go to every device whose version differs, even when older (rollback) [S22]', async () => {
    const { store, dir } = await fresh();
    await store.importImage({ ...kind, version: '4.0.7577.4366', data: await testImage('old', 1000) });
    await store.approve(kind);
    await store.importImage({ ...kind, version: '4.0.7577.4420', data: await testImage('new', 1000) });
    await store.approve(kind);
    expect(store.select(phone('4.0.7577.4366'))).toMatchObject({ image: { version: '4.0.7577.4420' }, why: 'approved' });
    expect(store.select(phone('4.0.7577.4420'))).toMatchObject({ image: null, why: expect.stringMatching(/already runs/) });
    expect(store.select(phone(null)).image?.version).toBe('4.0.7577.4420'); // reports nothing: takes the approved one
    // The admin rolls back: the older version is approved again and newer phones take it.
    await store.approve(kind, '4.0.7577.4366');
    expect(store.select(phone('4.0.7577.4420'))).toMatchObject({ image: { version: '4.0.7577.4366' }, why: 'approved' });
    // A restart keeps rules, images and test devices.
    await store.addTestDevice({ type: 'SerialNumber', identifier: 'SN9' });
    const again = await DeviceUpdateStore.open(dir);
    expect(again.rule(kind)).toMatchObject({ approved: '4.0.7577.4366', pending: null });
    expect(again.images()).toHaveLength(2);
    expect(again.isTestDevice({ mac: '00-00-00-00-00-00', serial: 'SN9' })).toBe(true);
  });

  it('a test device with the pending version installed falls back to the approved rule', async () => {
    const { store } = await fresh();
    await store.importImage({ ...kind, version: '1.0.0.1', data: await testImage('a', 10) });
    await store.approve(kind);
    await store.importImage({ ...kind, version: '1.0.0.2', data: await testImage('b', 10) });
    await store.addTestDevice({ type: 'SerialNumber', identifier: 'SN0001' });
    expect(store.select(phone('1.0.0.2'))).toMatchObject({ image: { version: '1.0.0.1' }, why: 'approved' });
  });

  it('refuses bad imports and approvals, and paths that leave the store', async () => {
    const { store } = await fresh();
    await expect(store.importImage({ ...kind, model: '../x', version: '1.0', data: new Uint8Array(1) })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(store.importImage({ ...kind, version: '1.0', fileName: '../a', data: new Uint8Array(1) })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(store.approve(kind)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await store.importImage({ ...kind, version: '1.0', data: new Uint8Array(1) });
    await expect(store.approve(kind, '9.9')).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(store.fileFor('UCPhone/Polycom/CX600/A/ENU/1.0/CPE/../../../../../../../etc/passwd')).toBeNull();
    expect(store.fileFor('UCPhone/Polycom/CX600/A/ENU/1.0/CPE/..')).toBeNull();
    expect(store.fileFor('UCPhone/Polycom/CX600/A/ENU/1.0/X/CPE.nbt')).toBeNull();
    await expect(store.addTestDevice({ type: 'MACAddress', identifier: 'zz' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('lab Device Update store written before signatures were tracked', () => {
  it('gives old images the signature file beside them, or writes the lab blob, so answers stay whole', async () => {
    const { store, dir } = await fresh();
    await store.importImage({ ...kind, version: '1.0.0.1', data: await testImage('a', 10), signature: new Uint8Array([1, 2, 3]) });
    await store.importImage({ ...kind, version: '1.0.0.2', data: await testImage('b', 10) });
    const json = join(dir, 'device-update', 'store.json');
    const old = JSON.parse(await readFile(json, 'utf8')) as { images: Record<string, unknown>[] };
    for (const i of old.images) {
      delete i.signatureSize;
      delete i.signatureSha256;
    }
    await writeFile(json, JSON.stringify(old));
    await unlink(store.fileFor('UCPhone/Polycom/CX600/A/ENU/1.0.0.2/CPE/CPE.cat')!);
    const again = await DeviceUpdateStore.open(dir);
    const [first, second] = again.images();
    expect(first).toMatchObject({ signatureSize: 3, signatureSha256: createHash('sha256').update(new Uint8Array([1, 2, 3])).digest('hex') });
    const blob = await readFile(again.fileFor('UCPhone/Polycom/CX600/A/ENU/1.0.0.2/CPE/CPE.cat')!);
    expect(Buffer.compare(blob, Buffer.from(labSignature(second!)))).toBe(0);
    expect(second).toMatchObject({ signatureSize: blob.length });
  });
});
