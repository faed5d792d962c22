import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../../lab';
import { main } from '../../../../main/cli';
import { splitPinArgument } from '../../../../main/cli/commands/test-bootstrap';
import type { CliIO } from '../../../../main/cli/io';
import { tempDir, writeFiles } from '../../../lab/support';
import { captureIO as io } from '../capture-io';

const ROOT = join(__dirname, '..', '..', '..', '..');
let lab: LabHandle;
let tmp: { dir: string; remove: () => void };

beforeAll(async () => {
  tmp = tempDir('tether-cli-test-bootstrap-');
  lab = await startLab({ stateDir: join(tmp.dir, 'lab') });
  writeFiles(tmp.dir, { 'root.pem': lab.ca.rootCertPem });
});

afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

afterEach(() => {
  for (const f of lab.context.faults.list()) lab.context.faults.set(f, false);
});

const base = (): string[] => [
  'test-bootstrap', '--domain', 'contoso.test', '--dns', lab.dnsServer,
  '--http-port', String(lab.httpPort), '--https-port', String(lab.httpsPort),
];
const pinned = (): string[] => [...base(), '--root-fingerprint', lab.ca.rootFingerprint];

interface Report {
  ok: boolean;
  stages: { n: number; id: string; outcome: string; summary: string | null; error: { code: string; stage: string; fix: string; detail: Record<string, unknown> } | null }[];
  result: { certificate: { certificatePem: string; subject: string } | null; candidates: { step: number; status: string }[] | null; chain: { rootFingerprint: string } | null };
  error: { code: string; stage: string; message: string; fix: string; detail: Record<string, unknown> } | null;
}

describe('tether test-bootstrap (in process, against the lab)', () => {
  it("--pin 'NUMBER:PIN' --json: one JSON document, stages 3–8 done, 1, 2 and 9 not applicable", async () => {
    const t = io();
    const code = await main([...pinned(), '--pin', '+14255550101:13579', '--json'], t);
    expect(t.err()).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(t.out()) as Report;
    expect(report.ok).toBe(true);
    expect(report.stages.map((s) => `${s.n}:${s.outcome}`)).toEqual(['1:not-applicable', '2:not-applicable', '3:done', '4:done', '5:done', '6:done', '7:done', '8:done', '9:not-applicable']);
    expect(report.error).toBeNull();
    expect(new X509Certificate(report.result.certificate!.certificatePem).subject).toContain('sip:alice@contoso.test');
    expect(report.result.candidates!.map((c) => c.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(t.out().trim().split('\n')).toHaveLength(1);
    expect(t.out()).not.toContain('13579');
  });

  it('--pin NUMBER takes the PIN from TETHER_PIN; people see nine rows with summaries', async () => {
    const t = io({ TETHER_PIN: '24680' });
    const code = await main([...pinned(), '--pin', '102', '--register'], t);
    expect(code).toBe(0);
    const out = t.out();
    expect(out).toMatch(/ 1 {2}Finding the VLAN ID +n\/a +not applicable without a phone/);
    expect(out).toMatch(/ 8 {2}Receive and publish certificate +ok +issued and published 'CN=sip:bob@contoso\.test'/);
    expect(out).toMatch(/ 9 {2}Log on to the Lync Server +ok +registered sip:bob@contoso\.test/);
    expect(out).toContain('1. internal DNS SRV (TLS): _sipinternaltls._tcp.contoso.test');
    expect(out).toContain('Result: every stage that can run without a phone passed.');
    expect(out).not.toContain('24680');
  });

  it('people\'s output is written row by row as the stages end (header, rows 1–9, verdict)', async () => {
    const chunks: string[] = [];
    const t: CliIO = { stdout: { write: (c: string) => chunks.push(c) }, stderr: { write: () => true }, env: {} };
    expect(await main([...pinned(), '--pin', '101:13579'], t)).toBe(0);
    expect(chunks[0]).toMatch(/^Test bootstrap for contoso\.test/);
    expect(chunks.slice(1, 10).map((c) => Number(c.slice(0, 2)))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(chunks[5]).toContain('CHOSEN');
    expect(chunks.at(-1)).toMatch(/Result: every stage/);
  });

  it('NTLM with the password asked on the terminal, and --trust-root FILE', async () => {
    const t = io({}, 'Lab-Alice-2026!');
    const code = await main([...base(), '--trust-root', join(tmp.dir, 'root.pem'), '--ntlm', 'CONTOSO\\alice', '--sip', 'sip:alice@contoso.test', '--json'], t);
    expect(code).toBe(0);
    const report = JSON.parse(t.out()) as Report;
    expect(report.result.chain!.rootFingerprint).toBe(lab.ca.rootFingerprint);
    expect(t.out()).not.toContain('Lab-Alice-2026!');
  });

  it('--dhcp-inform lo --dhcp-server <lab responder>: stage 5 shows options 43 and 120 and uses option 43', async () => {
    const t = io();
    const dhcp = ['--dhcp-inform', 'lo', '--dhcp-server', lab.endpoints.dhcp as string, '--dhcp-client-port', '0'];
    const code = await main([...pinned(), '--pin', '101:13579', ...dhcp], t);
    expect(code).toBe(0);
    expect(t.out()).toContain(`DHCP from 127.0.0.1: option 43 https://pool01.contoso.test:${lab.httpsPort}/CertProv/CertProvisioningService.svc; option 120 pool01.contoso.test`);
    expect(t.out()).toContain('(dhcp option 43)');
    expect(t.out()).toContain('2. DHCP option 120 (TLS): DHCP option 120 -> pool01.contoso.test:5061');
    const plain = io();
    await main([...pinned(), '--pin', '101:13579'], plain);
    expect(plain.out()).toContain('DHCP: not asked (add --dhcp-inform IFACE)');
  });

  it('a stage failure exits 1 with the code, stage, message and fix; later stages are "not run"', async () => {
    lab.context.faults.set('chain-download-off', true);
    const t = io();
    const code = await main([...pinned(), '--pin', '101:13579', '--json'], t);
    expect(code).toBe(1);
    const report = JSON.parse(t.out()) as Report;
    expect(report.ok).toBe(false);
    expect(report.error).toMatchObject({ code: 'CHAIN_DOWNLOAD_OFF', stage: 'ca-chain' });
    expect(report.error!.fix.length).toBeGreaterThan(10);
    expect(report.stages.find((s) => s.n === 6)).toMatchObject({ outcome: 'failed', error: { code: 'CHAIN_DOWNLOAD_OFF' } });
    expect(report.stages.filter((s) => s.outcome === 'not-run').map((s) => s.n)).toEqual([7, 8]);
    // What passed is still reported (stage 5's candidates).
    expect(report.result.candidates).toHaveLength(9);
  });

  it('an untrusted root: exit 1, stage 6, the fingerprint to compare in the detail and on screen', async () => {
    const t = io();
    const code = await main([...base(), '--pin', '101:13579'], t);
    expect(code).toBe(1);
    expect(t.out()).toMatch(/ 6 {2}Connect to Web Services.* FAILED +CHAIN_ROOT_UNTRUSTED/);
    expect(t.out()).toContain(lab.ca.rootFingerprint);
    expect(t.out()).toContain('fix: ');
    expect(t.out()).toContain('Result: stage 6 failed (CHAIN_ROOT_UNTRUSTED).');
  });

  it('a bad PIN: exit 1 at stage 7, never printing the PIN', async () => {
    const t = io({ TETHER_PIN: '99999' });
    const code = await main([...pinned(), '--pin', '103', '--json'], t);
    expect(code).toBe(1);
    const report = JSON.parse(t.out()) as Report;
    expect(report.error).toMatchObject({ code: 'WEBTICKET_PIN_REJECTED', stage: 'auth' });
    expect(t.out() + t.err()).not.toContain('99999');
    lab.users.unlock(lab.users.bySipUri('sip:carol@contoso.test')!);
  });

  it('usage errors exit 2', async () => {
    const cases: string[][] = [
      ['test-bootstrap', '--pin', '101:13579'],
      [...base()],
      [...base(), '--pin', '101:1', '--ntlm', 'CONTOSO\\alice', '--sip', 'sip:alice@contoso.test'],
      [...base(), '--ntlm', 'CONTOSO\\alice'],
      [...base(), '--pin', '101:13579', '--password', 'x'],
      [...base(), '--pin', '101:13579', '--http-port', '70000'],
      [...base(), '--pin', '101:13579', '--root-fingerprint', 'not-hex'],
      [...base(), '--pin', '101:13579', '--model', 'CX9999'],
      [...base(), '--pin', '101:13579', '--trust-root', join(tmp.dir, 'missing.pem')],
      [...base(), '--pin', '101'], // no TETHER_PIN and no terminal
      ['test-bootstrap', '--domain', 'contoso.test', '--dns', 'not a server', '--pin', '101:1'],
      [...base(), '--pin', '101:13579', '--dhcp-server', '127.0.0.1:67'],
      [...base(), '--pin', '101:13579', '--dhcp-inform', 'lo', '--dhcp-server', 'dhcp.example:67'],
      [...base(), '--pin', '101:13579', '--dhcp-inform', 'lo', '--dhcp-client-port', '-1'],
    ];
    for (const args of cases) {
      const t = io();
      expect(await main(args, t), args.join(' ')).toBe(2);
    }
  });
});

describe('splitPinArgument', () => {
  it('splits NUMBER:PIN at the last colon, keeps tel: URIs and bare numbers whole', () => {
    expect(splitPinArgument('+14255550101:13579')).toEqual({ phoneOrExt: '+14255550101', pin: '13579' });
    expect(splitPinArgument('101:0042')).toEqual({ phoneOrExt: '101', pin: '0042' });
    expect(splitPinArgument('tel:+14255550101:13579')).toEqual({ phoneOrExt: 'tel:+14255550101', pin: '13579' });
    expect(splitPinArgument('tel:+14255550101')).toEqual({ phoneOrExt: 'tel:+14255550101', pin: null });
    expect(splitPinArgument('101')).toEqual({ phoneOrExt: '101', pin: null });
    expect(splitPinArgument('101:')).toEqual({ phoneOrExt: '101:', pin: null });
  });

  it('refuses a PIN without its number, without repeating the PIN', () => {
    expect(() => splitPinArgument(':13579')).toThrow(/number or extension is missing/);
    expect(() => splitPinArgument(':13579')).not.toThrow(/13579/);
  });
});

describe('tether lab + tether test-bootstrap as child processes', () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('reads the lab\'s first JSON line, runs test-bootstrap with --dns and --root-fingerprint from it (exit 0), then stops the lab with SIGTERM', async () => {
    const state = join(tmp.dir, 'child-lab');
    child = spawn(process.execPath, [join(ROOT, 'bin/tether.mjs'), 'lab', '--state', state, '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child!.stdout! });
      rl.once('line', (line) => {
        rl.close();
        resolve(line);
      });
      child!.once('exit', (c) => reject(new Error(`the lab exited (${c}) before its first line`)));
    });
    const endpoints = JSON.parse(firstLine) as { dns: string; http: string; https: string; ca: { fingerprint: string }; users: { phoneNumber: string; pin: string }[] };
    const user = endpoints.users[0]!;
    const args = [
      join(ROOT, 'bin/tether.mjs'), 'test-bootstrap', '--domain', 'contoso.test',
      '--dns', endpoints.dns, '--root-fingerprint', endpoints.ca.fingerprint,
      '--http-port', new URL(endpoints.http).port, '--https-port', new URL(endpoints.https).port,
      '--pin', `${user.phoneNumber}:${user.pin}`, '--register', '--json',
    ];
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
        resolve({ code, stdout, stderr });
      });
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.ok).toBe(true);
    expect(report.stages.map((s) => s.outcome)).toEqual(['not-applicable', 'not-applicable', 'done', 'done', 'done', 'done', 'done', 'done', 'done']);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);
});
