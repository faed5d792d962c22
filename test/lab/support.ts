import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary folder and its remover. */
export function tempDir(prefix = 'tether-lab-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs openssl; returns { ok, out } with stdout+stderr, never throws on a non-zero exit. */
export function openssl(args: string[], cwd: string, input?: string): { ok: boolean; out: string } {
  try {
    const out = execFileSync('openssl', args, { cwd, input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });
    return { ok: true, out };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}
