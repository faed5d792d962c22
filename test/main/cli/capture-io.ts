import type { CliIO } from '../../../main/cli/io';

/** A CliIO that keeps what a command writes, with the given environment and (optionally) a prompt answer. */
export function captureIO(env: Record<string, string> = {}, prompt?: string): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (c: string) => (out += c) },
    stderr: { write: (c: string) => (err += c) },
    env,
    ...(prompt === undefined ? {} : { promptSecret: async () => prompt }),
    out: () => out,
    err: () => err,
  };
}
