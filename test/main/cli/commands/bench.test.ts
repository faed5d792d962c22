import { describe, expect, it } from 'vitest';
import { main } from '../../../../main/cli';
import { meetsGoal } from '../../../../main/bench/report';

/** Smoke test of `tether bench --quick --json`: the output format, never the timing. */
describe('tether bench --quick --json', () => {
  it('prints one JSON line per figure with bench, metric, value, unit and goal', async () => {
    let out = '';
    let err = '';
    const code = await main(['bench', '--quick', '--json'], { stdout: { write: (c: string) => (out += c) }, stderr: { write: (c: string) => (err += c) }, env: {} });
    expect(code).toBe(0);
    expect(err).toBe('');
    const lines = out.trimEnd().split('\n');
    const figures = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const f of figures) {
      expect(Object.keys(f)).toEqual(['bench', 'metric', 'value', 'unit', 'goal']);
      expect(typeof f.bench).toBe('string');
      expect(typeof f.metric).toBe('string');
      expect(typeof f.value === 'number' && Number.isFinite(f.value)).toBe(true);
      expect(typeof f.unit).toBe('string');
      expect(f.goal === null || (typeof f.goal === 'string' && /^(>=|<=) [\d.]+$/.test(f.goal))).toBe(true);
    }
    const names = figures.map((f) => `${String(f.bench)}/${String(f.metric)}`);
    for (const want of [
      'firmware-push-high/fraction-of-capacity',
      'firmware-push-high/stop-and-wait-fraction-of-capacity',
      'firmware-push-full/fraction-of-capacity',
      'firmware-push-full/stop-and-wait-fraction-of-capacity',
      'codec-cpu/cpu-ms-per-mb',
      'codec-cpu/ratio-to-high-speed-link',
      'firmware-push-rss/rss-growth-while-streaming',
      'journal/writes-per-sign-in',
      'journal/ms-per-sign-in',
    ]) {
      expect(names).toContain(want);
    }
  }, 60_000);

  it('reads goals both ways', () => {
    const f = { bench: 'b', metric: 'm', unit: 'x' };
    expect(meetsGoal({ ...f, value: 0.96, goal: '>= 0.95' })).toBe(true);
    expect(meetsGoal({ ...f, value: 0.9, goal: '>= 0.95' })).toBe(false);
    expect(meetsGoal({ ...f, value: 70, goal: '<= 64' })).toBe(false);
    expect(meetsGoal({ ...f, value: 1, goal: null })).toBeNull();
  });
});
