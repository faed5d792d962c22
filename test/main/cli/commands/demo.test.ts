import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../../main/cli';
import { parseDemoArgs } from '../../../../main/cli/commands/demo';
import type { CliIO } from '../../../../main/cli/io';
import { tempDir } from '../../../lab/support';
import { captureIO as io } from '../capture-io';

const ROOT = join(import.meta.dirname, '../../../..');
const STAGES = ['vlan', 'ip', 'find-update', 'check-update', 'registrar', 'ca-chain', 'auth', 'certificate', 'logon'];

interface DemoJson {
  ok: boolean;
  stages: { id: string; status: string; error: { code: string } | null }[];
  pairing: { decided: string; confirmed: boolean }[];
  firmware: { pushed: { version: string } | null } | null;
  registration: { state: string; sipUri: string };
  display: string;
  error: { code: string; stage: string; fix: string } | null;
}

describe('tether demo', () => {
  it('`node bin/tether.mjs demo --yes --json` signs the virtual phone in through nine stages and exits 0', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, ['bin/tether.mjs', 'demo', '--yes', '--json'], { cwd: ROOT, timeout: 60_000 }, () => undefined);
      let stdout = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('exit', (c) => resolve({ code: c, stdout }));
    });
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0]!) as DemoJson;
    expect(doc.ok).toBe(true);
    expect(doc.stages.map((s) => [s.id, s.status])).toEqual(STAGES.map((s) => [s, 'done']));
    expect(doc.firmware?.pushed?.version).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(doc.pairing.every((p) => p.decided === 'auto' && p.confirmed)).toBe(true);
    expect(doc.registration).toMatchObject({ state: 'registered', sipUri: 'sip:alice@contoso.test' });
    expect(doc.display).toContain('Signed in');
    // The lab's demo PIN never reaches the output.
    expect(stdout).not.toContain('13579');
  }, 60_000);

  it('people see aligned rows with ✓, the SAS side by side, and the phone\'s display; the state folder is kept with --state', async () => {
    const tmp = tempDir('tether-demo-test-');
    try {
      const o = io();
      const code = await main(['demo', '--yes', '--state', join(tmp.dir, 'lab')], o);
      expect(code).toBe(0);
      const text = o.out();
      expect(text).toMatch(/phone's display +Tether/);
      expect(text).toContain('Codes match: confirmed automatically (--yes).');
      const done = text.split('\n').filter((l) => l.includes('✓ '));
      expect(done.filter((l) => /^ ?\d {2}/.test(l))).toHaveLength(9);
      // Every mark starts in the same column.
      expect(new Set(done.filter((l) => /^ ?\d {2}/.test(l)).map((l) => l.indexOf('✓'))).size).toBe(1);
      expect(text).toMatch(/100% {2}pushing over USB/);
      expect(text).toContain('│ Signed in');
      expect(existsSync(join(tmp.dir, 'lab', 'ca'))).toBe(true);
    } finally {
      tmp.remove();
    }
  }, 60_000);

  it('--fault account-locked: stage 7 fails with its typed error and plain-language fix, exit 1', async () => {
    const o = io();
    const code = await main(['demo', '--yes', '--json', '--fault', 'account-locked'], o);
    expect(code).toBe(1);
    const doc = JSON.parse(o.out()) as DemoJson;
    expect(doc.ok).toBe(false);
    expect(doc.error).toMatchObject({ code: 'WEBTICKET_ACCOUNT_LOCKED', stage: 'auth' });
    expect(doc.error!.fix).toMatch(/unlock/i);
    expect(doc.stages.find((s) => s.id === 'auth')).toMatchObject({ status: 'failed', error: { code: 'WEBTICKET_ACCOUNT_LOCKED' } });
    expect(doc.stages.filter((s) => s.status === 'not-run').map((s) => s.id)).toEqual(['certificate', 'logon']);
  }, 60_000);

  it('--model CX700 --sign-in pin: the user is told to use Windows credentials', async () => {
    const o = io();
    const code = await main(['demo', '--yes', '--model', 'CX700', '--sign-in', 'pin'], o);
    expect(code).toBe(1);
    expect(o.out()).toContain('PHONE_PIN_UNSUPPORTED');
    expect(o.out()).toMatch(/fix: .*Windows credentials/);
  }, 60_000);

  it('Ctrl-C during the stages stops the run and everything it started (exit 1, CANCELLED)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let out = '';
    const o: CliIO = {
      stdout: {
        write: (c: string) => {
          out += c;
          if (/Find the Device Update Web service +✓/.test(c)) release();
        },
      },
      stderr: { write: () => undefined },
      env: {},
      untilStopped: () => gate,
    };
    const code = await main(['demo', '--yes'], o);
    expect(code).toBe(1);
    expect(out).toContain('CANCELLED');
    expect(out).not.toMatch(/Log on to the Lync Server +✓/);
  }, 60_000);

  it('flags through the shared parser: -y is --yes, --flag=VALUE works, defaults hold, a single flag given twice is refused', () => {
    expect(parseDemoArgs([])).toEqual({ model: 'CX600', faults: [], signIn: null, yes: false, json: false });
    expect(parseDemoArgs(['-y', '--model=hp4120', '--sign-in=windows', '--state', '/tmp/x', '--json'])).toEqual({
      model: 'HP4120',
      faults: [],
      signIn: 'windows',
      state: '/tmp/x',
      yes: true,
      json: true,
    });
    expect(() => parseDemoArgs(['--model'])).toThrow(/--model needs a value/);
    expect(() => parseDemoArgs(['--state', '--json'])).toThrow(/--state needs a value/);
    expect(() => parseDemoArgs(['--model', 'CX600', '--model', 'CX700'])).toThrow(/--model may be given once/);
    expect(() => parseDemoArgs(['-x'])).toThrow(/Unknown argument '-x'/);
  });

  it('usage errors: unknown fault, model, option', async () => {
    expect(() => parseDemoArgs(['--fault', 'nope'])).toThrow(/Unknown fault/);
    expect(() => parseDemoArgs(['--sign-in', 'smartcard'])).toThrow(/pin or windows/);
    expect(() => parseDemoArgs(['--bogus'])).toThrow(/Unknown argument/);
    expect(parseDemoArgs(['--model', 'cx700', '--fault', 'srv-missing', '--fault', 'srv-missing'])).toMatchObject({ model: 'CX700', faults: ['srv-missing'] });
    const o = io();
    expect(await main(['demo', '--model', 'CX9999', '--yes'], o)).toBe(2);
    expect(o.err()).toMatch(/Unknown phone model/);
  });
});
