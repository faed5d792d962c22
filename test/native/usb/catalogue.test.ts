import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { BUILT_IN_CATALOGUE, findModel, parseCatalogue } from '../../../native/usb/catalogue';
import { loadCatalogue } from '../../../native/usb/catalogue-file';
import { guessModel } from '../../../native/usb/models';

const dir = mkdtempSync(join(tmpdir(), 'tether-cat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const extra = {
  id: 'CX3001',
  name: 'Polycom CX3001 (lab build)',
  vendor: 'Polycom',
  vendorId: 0x095d,
  productId: 0x7777,
  family: 'aries',
  pinAuth: true,
  hardwareRevision: 'C',
  firmwareVersion: '4.0.7577.4455',
  locale: 'ENU',
};

describe('model catalogue', () => {
  it('names a model from IDs only when they pick exactly one', () => {
    // Three Polycom models share the vendor ID and have no public product ID: no single guess.
    expect(guessModel(0x095d, 0x4242)).toEqual({ model: null, label: 'Polycom phone' });
    expect(guessModel(0x1111, 0x2222).label).toBe('Lync Phone Edition phone');
  });

  it('is extended by an admin file: new model named by its IDs, built-ins kept', async () => {
    const path = join(dir, 'ext.json');
    writeFileSync(path, JSON.stringify({ models: [extra] }));
    const cat = await loadCatalogue(path);
    expect(cat.tetherInterface).toEqual(BUILT_IN_CATALOGUE.tetherInterface);
    expect(findModel('cx3001', cat)?.productId).toBe(0x7777);
    expect(findModel('CX600', cat)).toBeDefined();
    expect(guessModel(0x095d, 0x7777, cat).model?.id).toBe('CX3001');
  });

  it('replaces a built-in model by id', async () => {
    const path = join(dir, 'replace.json');
    writeFileSync(path, JSON.stringify({ models: [{ ...extra, id: 'hp4120', name: 'HP 4120 (site)', vendor: 'HP', vendorId: 0x03f0, productId: 0x0b2a }] }));
    const cat = await loadCatalogue(path);
    expect(cat.models.filter((m) => m.id.toUpperCase() === 'HP4120')).toHaveLength(1);
    expect(guessModel(0x03f0, 0x0b2a, cat).label).toBe('HP 4120 (site)');
  });

  it('rejects a missing, malformed or hostile file with BAD_INPUT naming it', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"models": [ {"id": ');
    const wrongType = join(dir, 'wrong.json');
    writeFileSync(wrongType, JSON.stringify({ models: [{ ...extra, vendorId: 70000 }] }));
    const dup = join(dir, 'dup.json');
    writeFileSync(dup, JSON.stringify({ models: [extra, extra] }));
    for (const p of [join(dir, 'absent.json'), bad, wrongType, dup]) {
      const err = await loadCatalogue(p).catch((e: unknown) => e);
      expect(TetherError.is(err, 'BAD_INPUT'), p).toBe(true);
      expect((err as Error).message).toContain(p);
    }
  });

  it('rejects a model whose id or factory values could not go on the wire as a phone identity', async () => {
    for (const [field, value] of [
      ['id', 'My Phone'],
      ['id', 'X'.repeat(33)],
      ['hardwareRevision', 'rev\u00e9'],
      ['firmwareVersion', '4.0\n7577'],
      ['locale', 'en_US'],
    ] as const) {
      const p = join(dir, `identity-${field}.json`);
      writeFileSync(p, JSON.stringify({ models: [{ ...extra, [field]: value }] }));
      const err = await loadCatalogue(p).catch((e: unknown) => e);
      expect(TetherError.is(err, 'BAD_INPUT'), `${field}=${value}`).toBe(true);
      expect((err as Error).message).toContain(`models[0].${field}`);
    }
    expect(() => parseCatalogue({ tetherInterface: { class: 300, subclass: 0, protocol: 0 }, models: [] })).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
  });

  it('without a file is the built-in catalogue', async () => {
    expect(await loadCatalogue()).toBe(BUILT_IN_CATALOGUE);
  });
});
