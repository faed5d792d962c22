import { TetherError, toTetherError } from '../../common/errors';
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

/** Prints an error for a person, or as one JSON line with --json (the same error shape as test-bootstrap's and demo's); returns the exit code. */
export function reportError(err: unknown, io: CliIO, json: boolean): number {
  const e = toTetherError(err);
  if (json) {
    io.stdout.write(JSON.stringify({ ok: false, error: { ...e.toJSON(), fix: e.fix, cmdlet: e.cmdlet ?? null } }) + '\n');
  } else {
    const stage = e.stage === null ? '' : ` (stage ${stageNumber(e.stage)}: ${STAGES.find((s) => s.id === e.stage)!.title})`;
    io.stderr.write(`error ${e.code}${stage}: ${e.message}\n  fix: ${e.fix}\n`);
    if (e.cmdlet) io.stderr.write(`  check: ${e.cmdlet}\n`);
  }
  return e.code === 'BAD_INPUT' ? EXIT.usage : EXIT.failure;
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
