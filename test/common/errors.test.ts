import { describe, expect, it } from 'vitest';
import { AREA_TABLES, CATALOGUE, TetherError, toTetherError } from '../../common/errors';
import { STAGES } from '../../common/stages';

describe('TetherError', () => {
  it('takes its stage and fix from the catalogue', () => {
    const err = new TetherError('TIMEOUT');
    expect(err.stage).toBeNull();
    expect(err.message).toBe(CATALOGUE.TIMEOUT.summary);
    expect(err.fix).toBe(CATALOGUE.TIMEOUT.fix);
  });

  it('round-trips through JSON and can be re-attributed to a stage', () => {
    const err = new TetherError('CANCELLED', 'stopped by user', { detail: { serial: 'X1' } }).withStage('check-update');
    const back = TetherError.fromJSON(JSON.parse(JSON.stringify(err)));
    expect(back).toBeInstanceOf(TetherError);
    expect(back.code).toBe('CANCELLED');
    expect(back.stage).toBe('check-update');
    expect(back.message).toBe('stopped by user');
    expect(back.detail).toEqual({ serial: 'X1' });
  });

  it('turns a malformed record into INTERNAL rather than throwing', () => {
    for (const bad of [null, 42, 'x', { type: 'TetherError', code: 'NOPE' }, { code: 'TIMEOUT' }]) {
      expect(TetherError.fromJSON(bad).code).toBe('INTERNAL');
    }
  });

  it('wraps foreign errors', () => {
    const wrapped = toTetherError(new Error('boom'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.message).toBe('boom');
  });
});

describe('error catalogue', () => {
  it('has unique codes across areas and a fix and valid stage for every entry', () => {
    const seen = new Set<string>();
    const stageIds = new Set<string>(STAGES.map((s) => s.id));
    for (const [area, table] of Object.entries(AREA_TABLES)) {
      for (const [code, entry] of Object.entries(table)) {
        expect(seen.has(code), `${code} in ${area} is defined twice`).toBe(false);
        seen.add(code);
        expect(entry.summary.length, code).toBeGreaterThan(0);
        expect(entry.fix.length, code).toBeGreaterThan(0);
        if (entry.stage !== null) expect(stageIds.has(entry.stage), code).toBe(true);
      }
    }
    expect(seen.size).toBe(Object.keys(CATALOGUE).length);
  });
});
