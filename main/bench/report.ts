/** One measured figure of `tether bench`, printed as one JSON line with --json. */
export interface BenchFigure {
  /** Which benchmark, e.g. "firmware-push-high". */
  readonly bench: string;
  /** What was measured, e.g. "fraction-of-capacity". */
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** The goal as a comparison, e.g. ">= 0.95", or null when the figure is context for another. */
  readonly goal: string | null;
}

/** True/false when the figure has a goal it meets or misses; null when it has none. */
export function meetsGoal(f: BenchFigure): boolean | null {
  if (f.goal === null) return null;
  const m = /^(>=|<=)\s*(-?[\d.]+)$/.exec(f.goal);
  if (!m) return null;
  const limit = Number(m[2]);
  return m[1] === '>=' ? f.value >= limit : f.value <= limit;
}

export function jsonLine(f: BenchFigure): string {
  return JSON.stringify({ bench: f.bench, metric: f.metric, value: f.value, unit: f.unit, goal: f.goal }) + '\n';
}

function formatValue(f: BenchFigure): string {
  const digits = Math.abs(f.value) >= 100 ? 0 : Math.abs(f.value) >= 10 ? 1 : 3;
  return `${f.value.toFixed(digits)} ${f.unit}`;
}

/** One aligned line for a person: bench, metric, value, and the goal with ✓/✗. */
export function humanLine(f: BenchFigure): string {
  const ok = meetsGoal(f);
  const goal = f.goal === null ? '' : `  goal ${f.goal} ${ok ? 'met' : 'MISSED'}`;
  return `${f.bench.padEnd(28)} ${f.metric.padEnd(30)} ${formatValue(f).padStart(16)}${goal}\n`;
}
