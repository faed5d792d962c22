import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../../main/cli';
import { parseDemoArgs } from '../../../../main/cli/commands/demo';
import type { CliIO } from '../../../../main/cli/io';
import { captureIO as io } from '../capture-io';

const ROOT = join(import.meta.dirname, '../../../..');

interface Line {
  type: string;
  serial: string;
  stage?: number;
  status?: string;
  outcome?: string;
  certificatePem?: string | null;
  chainPem?: string[] | null;
  stages?: { id: string; status: string }[];
  error?: { code: string; stage: string; userCan: string; adminFix: string } | null;
}
const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

describe('tether demo (npm start)', () => {
  it('`node bin/tether.mjs demo --json` signs three models in at once, the CX600 with a firmware push, and exits 0', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, ['bin/tether.mjs', 'demo', '--json'], { cwd: ROOT, timeout: 90_000 }, () => undefined);
      let stdout = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('exit', (c) => resolve({ code: c, stdout }));
    });
    expect(code).toBe(0);
    const all = lines(stdout);
    const results = all.filter((l) => l.type === 'result');
    expect(results.map((r) => [r.serial, r.outcome]).sort()).toEqual([
      ['CX3000-V001', 'signed-in'],
      ['CX600-V001', 'signed-in'],
      ['HP4120-V001', 'signed-in'],
    ]);
    for (const r of results) {
      expect(r.certificatePem).toContain('BEGIN CERTIFICATE');
      expect(r.stages!.every((s) => s.status === 'done' || s.status === 'skipped')).toBe(true);
    }
    expect(results.find((r) => r.serial === 'CX600-V001')!.stages![3]).toMatchObject({ id: 'check-update', status: 'done' });
    // The firmware push reported its bytes as progress.
    expect(all.some((l) => l.serial === 'CX600-V001' && l.stage === 4 && l.status === 'progress')).toBe(true);
    // The lab's demo PIN is never printed.
    expect(stdout).not.toContain('13579');
  }, 120_000);

  it('--fault account-locked: every phone fails at stage 7 with its entry (what the user can do, what the admin fixes), exit 1', async () => {
    const o = io();
    const code = await main(['demo', '--fault', 'account-locked', '--model', 'CX600', '--model', 'HP4120', '--json'], o);
    expect(code).toBe(1);
    const results = lines(o.out()).filter((l) => l.type === 'result');
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.outcome).toBe('failed');
      expect(r.error).toMatchObject({ code: 'WEBTICKET_ACCOUNT_LOCKED', stage: 'auth' });
      expect(r.error!.adminFix).toMatch(/unlock/i);
      expect(r.stages!.filter((s) => s.status === 'pending').map((s) => s.id)).toEqual(['certificate', 'logon']);
    }
  }, 90_000);

  it('--model CX700 --sign-in pin: the user is told to use Windows credentials', async () => {
    const o = io();
    expect(await main(['demo', '--model', 'CX700', '--sign-in', 'pin'], o)).toBe(1);
    expect(o.out()).toContain('PHONE_PIN_UNSUPPORTED');
    expect(o.out()).toMatch(/you can: .*Windows/);
  }, 90_000);

  it('Ctrl-C during the stages cancels every job (exit 1, CANCELLED), and stops what it started', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let out = '';
    const o: CliIO = {
      stdout: {
        write: (c: string) => {
          out += c;
          if (/Find the Device Update Web service: done/.test(c)) release();
        },
      },
      stderr: { write: () => undefined },
      env: {},
      untilStopped: () => gate,
    };
    const code = await main(['demo'], o);
    expect(code).toBe(1);
    expect(out).toContain('CANCELLED');
    expect(out).not.toMatch(/signed in as/);
  }, 90_000);

  it('flags: defaults, repeatable models, --flag=VALUE, usage errors', async () => {
    expect(parseDemoArgs([])).toEqual({ models: ['CX600', 'HP4120', 'CX3000'], faults: [], signIn: null, json: false });
    expect(parseDemoArgs(['--model=hp4120', '--model', 'cx700', '--sign-in=windows', '--state', '/tmp/x', '--json'])).toEqual({
      models: ['HP4120', 'CX700'],
      faults: [],
      signIn: 'windows',
      state: '/tmp/x',
      json: true,
    });
    expect(() => parseDemoArgs(['--state', '--json'])).toThrow(/--state needs a value/);
    expect(() => parseDemoArgs(['--fault', 'nope'])).toThrow(/Unknown fault/);
    expect(() => parseDemoArgs(['--sign-in', 'smartcard'])).toThrow(/pin or windows/);
    expect(() => parseDemoArgs(['--bogus'])).toThrow(/Unknown argument/);
    expect(parseDemoArgs(['--fault', 'srv-missing', '--fault', 'srv-missing'])).toMatchObject({ faults: ['srv-missing'] });
    const o = io();
    expect(await main(['demo', '--model', 'CX9999'], o)).toBe(2);
    expect(o.err()).toMatch(/Unknown phone model/);
  });
});
