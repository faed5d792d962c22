import { describe, expect, it } from 'vitest';
import { main } from '../../../main/cli';
import { captureIO as capture } from './capture-io';

describe('tether help', () => {
  it('lists every command with no argument, `help` or `--help`, and exits 0', async () => {
    for (const argv of [[], ['help'], ['--help'], ['-h'], ['help', 'help']]) {
      const io = capture();
      expect(await main(argv, io)).toBe(0);
      expect(io.out()).toContain('Commands:');
      expect(io.out()).toMatch(/^ {2}test-bootstrap /m);
      expect(io.err()).toBe('');
    }
  });

  it('shows one command\'s usage for `help CMD`, `CMD --help` and `CMD -h`, without running it', async () => {
    for (const argv of [['help', 'lab'], ['lab', '--help'], ['lab', '--state', 'x', '-h'], ['--help', 'lab']]) {
      const io = capture();
      expect(await main(argv, io)).toBe(0);
      expect(io.out()).toMatch(/^Usage: tether lab /);
      expect(io.err()).toBe('');
    }
  });

  it('calls an unknown command or help topic a usage error (exit 2, on stderr)', async () => {
    for (const argv of [['nope'], ['help', 'nope']]) {
      const io = capture();
      expect(await main(argv, io)).toBe(2);
      expect(io.out()).toBe('');
      expect(io.err()).toContain("unknown command 'nope'");
    }
  });

  it('gives every command a one-line summary in the same style (no trailing full stop)', async () => {
    const io = capture();
    await main(['help'], io);
    const rows = io.out().split('\n').filter((l) => /^ {2}\S/.test(l));
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) expect(row).not.toMatch(/\.$/);
  });

  it('answers `probe --json` without a verb with one JSON document on stdout', async () => {
    const io = capture();
    expect(await main(['probe', '--json'], io)).toBe(2);
    expect(JSON.parse(io.out())).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', stage: null, fix: expect.any(String), cmdlet: null } });
    expect(io.err()).toBe('');
  });
});
