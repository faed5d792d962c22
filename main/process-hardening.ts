import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/**
 * Keeps the secrets a run is given out of places they would outlive it: the environment (inherited
 * by every child process, shown in /proc/PID/environ to the same user, written into diagnostic
 * reports) and core dumps (a crash with core dumps on writes the process memory, secrets included,
 * to disk). docs/security.md, "Hardening of the core and the lab".
 */

/** The environment variables that carry secrets (passwords, PINs); never read anywhere else. */
export const SECRET_ENV_NAMES = ['TETHER_PASSWORD', 'TETHER_PIN'] as const;
export type SecretEnvName = (typeof SECRET_ENV_NAMES)[number];

/**
 * Reads the secret variables once and deletes them from `env` (for process.env that is unsetenv:
 * children no longer inherit them). The initial environment block the kernel placed on the stack
 * keeps its copy, which is why core dumps are switched off too.
 */
export function takeSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): Readonly<Partial<Record<SecretEnvName, string>>> {
  const taken: Partial<Record<SecretEnvName, string>> = {};
  for (const name of SECRET_ENV_NAMES) {
    const value = env[name];
    if (value === undefined) continue;
    taken[name] = value;
    delete env[name];
  }
  return Object.freeze(taken);
}

export interface CoreDumpOutcome {
  /** RLIMIT_CORE is 0 (soft and hard): the kernel writes no core file. */
  readonly noCoreFile: boolean;
  /** /proc/self/coredump_filter is 0: a core that is still made (a pipe handler such as systemd-coredump) holds no anonymous memory. */
  readonly noMemoryInCore: boolean;
  /** Node's diagnostic report, if one is ever written, leaves the environment out. */
  readonly reportWithoutEnv: boolean;
  /** What could not be done and why, for the docs and diagnostics. */
  readonly notes: readonly string[];
}

export interface CoreDumpDeps {
  readonly platform?: NodeJS.Platform;
  readonly pid?: number;
  readonly writeFile?: (path: string, data: string) => void;
  /** Runs a program, returning its exit status (null when it could not run). */
  readonly run?: (command: string, args: readonly string[]) => number | null;
}

const runQuietly = (command: string, args: readonly string[]): number | null => {
  // The child gets the environment without the secret variables, whoever calls this and when.
  const env = { ...process.env };
  for (const name of SECRET_ENV_NAMES) delete env[name];
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 5000, env });
  return r.error ? null : r.status;
};

/**
 * Switches core dumps off as far as pure Node can. Node has no setrlimit and no prctl
 * (PR_SET_DUMPABLE), so on Linux: `prlimit --pid <self> --core=0:0` (util-linux) lowers this
 * process's own RLIMIT_CORE, which any process may do; and writing 0 to /proc/self/coredump_filter
 * leaves all anonymous and file-backed memory out of any core still produced. On macOS and Windows
 * nothing is reachable without a native module (launchd/ulimit and WER decide); `notes` says so.
 * Never throws: hardening must not stop the command.
 */
export function disableCoreDumps(deps: CoreDumpDeps = {}): CoreDumpOutcome {
  const platform = deps.platform ?? process.platform;
  const notes: string[] = [];
  const report = (process as { report?: { excludeEnv?: boolean } }).report;
  let reportWithoutEnv = false;
  if (report && 'excludeEnv' in report) {
    report.excludeEnv = true;
    reportWithoutEnv = true;
  } else {
    notes.push('this Node has no process.report.excludeEnv');
  }
  if (platform !== 'linux') {
    notes.push(`core dumps cannot be switched off from pure Node on ${platform} (no setrlimit/prctl); the system's settings apply`);
    return { noCoreFile: false, noMemoryInCore: false, reportWithoutEnv, notes };
  }
  const run = deps.run ?? runQuietly;
  const noCoreFile = run('prlimit', ['--pid', String(deps.pid ?? process.pid), '--core=0:0']) === 0;
  if (!noCoreFile) notes.push('prlimit (util-linux) is missing or failed: RLIMIT_CORE is unchanged');
  let noMemoryInCore = false;
  try {
    (deps.writeFile ?? ((p, d) => writeFileSync(p, d)))('/proc/self/coredump_filter', '0');
    noMemoryInCore = true;
  } catch (err) {
    notes.push(`cannot write /proc/self/coredump_filter: ${(err as Error).message}`);
  }
  return { noCoreFile, noMemoryInCore, reportWithoutEnv, notes };
}
