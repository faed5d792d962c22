/**
 * How a cost grows with input size, measured without trusting the machine's speed: the same work
 * at two sizes in the same test, best of a few runs each (a burst of load on a shared machine
 * slows one run, not all), compared as a ratio. Linear work at sizes n and k·n costs about k times
 * as much, quadratic work k² times: a test asserts the ratio is below √(k·k²), far from both.
 */
export interface Growth {
  /** Time at the large size divided by time at the small size. */
  readonly ratio: number;
  /** large / small: what linear work gives. */
  readonly linear: number;
  /** Geometric mean of linear and quadratic growth: the line between the two. */
  readonly threshold: number;
}

function best(work: () => void, runs: number): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    work();
    min = Math.min(min, Number(process.hrtime.bigint() - t0));
  }
  return min;
}

export function growth(run: (size: number) => void, small: number, large: number, runs = 3): Growth {
  run(small); // warm up the JIT on the code path, so the first timed run is not the slow one
  const ratio = best(() => run(large), runs) / Math.max(1, best(() => run(small), runs));
  const linear = large / small;
  return { ratio, linear, threshold: Math.sqrt(linear * linear * linear) };
}
