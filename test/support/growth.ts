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

/**
 * CPU time (user + system) of one run, not wall time: on a loaded machine a run longer than the
 * scheduler's time slice is always preempted while a short one often is not, which would bias a
 * wall-clock ratio towards the large size; CPU time does not count the time spent waiting.
 */
function timed(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

export function growth(run: (size: number) => void, small: number, large: number, runs = 5): Growth {
  run(small); // warm up the JIT on the code path, so the first timed run is not the slow one
  // Interleaved, best of each: a burst of load that slows the large runs meets the small ones too,
  // and one quiet moment is enough for each size's minimum.
  let bestSmall = Number.POSITIVE_INFINITY;
  let bestLarge = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    bestSmall = Math.min(bestSmall, timed(() => run(small)));
    bestLarge = Math.min(bestLarge, timed(() => run(large)));
  }
  const ratio = bestLarge / Math.max(1, bestSmall);
  const linear = large / small;
  return { ratio, linear, threshold: Math.sqrt(linear * linear * linear) };
}
