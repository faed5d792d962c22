import { TetherError, toTetherError, type SerializedTetherError } from '../../common/errors';
import { STAGES, stageNumber } from '../../common/stages';

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIO {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads one line from the terminal without echo (for passwords); absent when there is no TTY. */
  readonly promptSecret?: (question: string) => Promise<string>;
  /** Resolves when the user asks the command to stop (Ctrl-C); long-running commands wait on it. */
  readonly untilStopped?: () => Promise<void>;
}

export interface Command {
  readonly name: string;
  /** One line for `tether help`. */
  readonly summary: string;
  /** Usage text for `tether help NAME`. */
  readonly usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

/** Exit codes: 0 success, 1 a typed failure, 2 a usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The error object every command's `--json` failure carries (docs/cli.md). */
export interface ErrorReport extends SerializedTetherError {
  readonly fix: string;
  readonly cmdlet: string | null;
}

/** `{code, stage, message, detail, fix, cmdlet}` of any error (a serialized one is rebuilt first). */
export function errorReport(err: unknown): ErrorReport {
  const e = isSerialized(err) ? TetherError.fromJSON(err) : toTetherError(err);
  return { ...e.toJSON(), fix: e.fix, cmdlet: e.cmdlet ?? null };
}

/** The same error for people: `error CODE (stage N: Title): message`, then `fix:` and `check:` lines. */
export function errorText(err: unknown): string {
  const r = errorReport(err);
  const stage = r.stage === null ? '' : ` (stage ${stageNumber(r.stage)}: ${STAGES.find((s) => s.id === r.stage)!.title})`;
  return `error ${r.code}${stage}: ${r.message}\n  fix: ${r.fix}\n` + (r.cmdlet ? `  check: ${r.cmdlet}\n` : '');
}

function isSerialized(v: unknown): v is SerializedTetherError {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'TetherError' && !(v instanceof TetherError);
}

/** The exit code of a failure: 2 for a usage error (BAD_INPUT), 1 for any other typed failure. */
export function exitCodeFor(err: unknown): number {
  return errorReport(err).code === 'BAD_INPUT' ? EXIT.usage : EXIT.failure;
}

/** Prints an error for a person, or as one JSON line with --json (the same error shape as test-bootstrap's and demo's); returns the exit code. */
export function reportError(err: unknown, io: CliIO, json: boolean): number {
  if (json) io.stdout.write(JSON.stringify({ ok: false, error: errorReport(err) }) + '\n');
  else io.stderr.write(errorText(err));
  return exitCodeFor(err);
}

/** Closes a raw-mode prompt on Ctrl-C and delivers the SIGINT readline swallowed to the process. */
export function reraiseInterrupt(rl: { close(): void }): () => void {
  return () => {
    rl.close();
    process.stderr.write('\n');
    process.kill(process.pid, 'SIGINT');
  };
}

/** Resolves on the first SIGINT or SIGTERM (the default for `CliIO.untilStopped`). */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

export function usageError(message: string): TetherError {
  return new TetherError('BAD_INPUT', message);
}
