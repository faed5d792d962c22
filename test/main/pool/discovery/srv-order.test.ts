import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { orderSrv, type SrvRecord } from '../../../../main/pool/discovery/srv-order';
// A deterministic uniform source, so distributions are reproducible.
import { seeded } from '../../../support/seeded';

const rec = (name: string, priority: number, weight: number): SrvRecord => ({ name, port: 5061, priority, weight });

describe('RFC 2782 SRV order', () => {
  it('puts lower priority first whatever the weights', () => {
    const out = orderSrv([rec('c', 20, 100), rec('a', 0, 0), rec('b', 10, 1000)], seeded(1));
    expect(out.map((r) => r.name)).toEqual(['a', 'b', 'c']);
  });

  it('uses the injected random source: fixed numbers give a fixed order', () => {
    const records = [rec('a', 0, 10), rec('b', 0, 30), rec('c', 0, 60)];
    // total 100: pick ⌊0.05·101⌋=5 → a; then total 90: ⌊0.99·91⌋=90 → c; then b.
    const seq = [0.05, 0.99, 0.5];
    expect(orderSrv(records, () => seq.shift()!).map((r) => r.name)).toEqual(['a', 'c', 'b']);
  });

  it('picks first in proportion to weight (60/30/10 over 20 000 draws)', () => {
    const records = [rec('a', 0, 10), rec('b', 0, 30), rec('c', 0, 60)];
    const random = seeded(42);
    const first: Record<string, number> = { a: 0, b: 0, c: 0 };
    const n = 20_000;
    for (let i = 0; i < n; i++) first[orderSrv(records, random)[0]!.name]!++;
    // Expected shares with the RFC's inclusive pick over [0, 100]: a 11/101, b 30/101, c 60/101.
    expect(first.a! / n).toBeCloseTo(11 / 101, 1);
    expect(first.b! / n).toBeCloseTo(30 / 101, 1);
    expect(first.c! / n).toBeCloseTo(60 / 101, 1);
    expect(Math.abs(first.c! / n - 60 / 101)).toBeLessThan(0.015);
  });

  it('gives weight-0 records a small but non-zero chance, as the RFC intends', () => {
    const records = [rec('zero', 0, 0), rec('w', 0, 9)];
    const random = seeded(7);
    let zeroFirst = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) if (orderSrv(records, random)[0]!.name === 'zero') zeroFirst++;
    expect(zeroFirst / n).toBeGreaterThan(0.05);
    expect(zeroFirst / n).toBeLessThan(0.15); // 1/10 expected
  });

  it('property: a permutation, sorted by priority, for any random source', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ priority: fc.integer({ min: 0, max: 3 }), weight: fc.integer({ min: 0, max: 100 }) }), { maxLength: 12 }),
        fc.array(fc.double({ min: 0, max: 0.9999999, noNaN: true }), { minLength: 1, maxLength: 20 }),
        (specs, draws) => {
          const records = specs.map((s, i) => rec(`r${i}`, s.priority, s.weight));
          let k = 0;
          const out = orderSrv(records, () => draws[k++ % draws.length]!);
          expect(out.map((r) => r.name).sort()).toEqual(records.map((r) => r.name).sort());
          for (let i = 1; i < out.length; i++) expect(out[i]!.priority).toBeGreaterThanOrEqual(out[i - 1]!.priority);
        },
      ),
    );
  });
});
