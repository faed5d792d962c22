import { spawnSync } from 'node:child_process';

export interface ColdStartResult {
  /** Median wall time of `tether help` (built CLI), milliseconds. */
  readonly cliMs: number;
  /** Median wall time of a bare `node -e 0` on the same Node, for scale. */
  readonly nodeMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeRun(args: readonly string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore', env: { ...process.env, TETHER_NO_BROWSER: '1' } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return ms;
}

/**
 * The command line's cold start: a fresh process runs `bin/tether.mjs help` (the built CLI, after
 * the staleness check), `runs` times after one warm-up that builds if needed; the median counts.
 */
export function measureColdStart(bin: string, runs = 9): ColdStartResult {
  timeRun([bin, 'help']);
  const cli: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < runs; i++) {
    cli.push(timeRun([bin, 'help']));
    node.push(timeRun(['-e', '0']));
  }
  return { cliMs: median(cli), nodeMs: median(node) };
}
