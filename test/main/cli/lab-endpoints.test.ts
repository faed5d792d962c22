import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { ENDPOINTS_FILE, type LabEndpointsFile } from '../../../lab/endpoints-file';
import { main } from '../../../main/cli';
import { parseArgs, flag } from '../../../main/cli/args';
import { readLabEndpoints } from '../../../main/cli/lab-endpoints';
import { tempDir } from '../../lab/support';
import { makeCsr } from '../../support/csr';
import { captureIO as io } from './capture-io';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
let labDir: string;

beforeAll(async () => {
  tmp = tempDir('tether-cli-lab-endpoints-');
  labDir = join(tmp.dir, 'lab');
  lab = await startLab({ stateDir: labDir });
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

async function run(args: string[], env: Record<string, string> = {}) {
  const t = io(env);
  const code = await main(args, t);
  return { code, out: t.out(), err: t.err() };
}

interface StageRow {
  n: number;
  outcome: string;
  error: { code: string } | null;
}

/** A pid that certainly belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

function writeEndpoints(dir: string, doc: unknown): void {
  // 0700 whatever the umask: --lab reads only from a folder nobody else can write.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, ENDPOINTS_FILE), typeof doc === 'string' ? doc : JSON.stringify(doc), { mode: 0o600 });
}

describe('the lab publishes <state>/endpoints.json', () => {
  it('holds the endpoints and its pid, and no password or PIN', () => {
    const text = readFileSync(join(labDir, ENDPOINTS_FILE), 'utf8');
    const doc = JSON.parse(text) as LabEndpointsFile;
    expect(doc).toMatchObject({ format: 'tether-lab-endpoints/1', pid: process.pid, dns: lab.dnsServer, domain: 'contoso.test', https: lab.endpoints.https, registrarPort: lab.endpoints.registrarPort });
    expect(doc.ca.fingerprint).toBe(lab.ca.rootFingerprint);
    expect(doc.users.map((u) => Object.keys(u).sort())).toEqual(lab.endpoints.users.map(() => ['extension', 'ntlm', 'phoneNumber', 'sipUri']));
    for (const u of lab.endpoints.users) {
      expect(text).not.toContain(u.password);
      expect(text).not.toMatch(new RegExp(`"${u.pin}"`));
    }
    // The printed document still carries them (the demo and people need them).
    expect(lab.endpoints.users[0]!.pin).toMatch(/^\d+$/);
  });

  it('is removed when the lab stops, and a stopping lab leaves a newer lab’s file alone', async () => {
    const dir = join(tmp.dir, 'short-lived');
    const first = await startLab({ stateDir: dir, services: [] });
    expect(existsSync(join(dir, ENDPOINTS_FILE))).toBe(true);
    await first.stop();
    expect(existsSync(join(dir, ENDPOINTS_FILE))).toBe(false);

    const older = await startLab({ stateDir: dir, services: [] });
    const newer = await startLab({ stateDir: dir, services: [] });
    await older.stop();
    expect((JSON.parse(readFileSync(join(dir, ENDPOINTS_FILE), 'utf8')) as LabEndpointsFile).dns).toBe(newer.dnsServer);
    await newer.stop();
    expect(existsSync(join(dir, ENDPOINTS_FILE))).toBe(false);
  });

  it('is not written with publishEndpoints: false', async () => {
    const dir = join(tmp.dir, 'unpublished');
    const quiet = await startLab({ stateDir: dir, services: [], publishEndpoints: false });
    try {
      expect(existsSync(join(dir, ENDPOINTS_FILE))).toBe(false);
    } finally {
      await quiet.stop();
    }
  });

  it('keeps a running lab its folder: `tether lab --state DIR` or `demo --state DIR` on it is refused (exit 2) and the file stays', async () => {
    const before = readFileSync(join(labDir, ENDPOINTS_FILE), 'utf8');
    const t = { ...io(), untilStopped: () => Promise.resolve() };
    expect(await main(['lab', '--state', labDir, '--quiet'], t)).toBe(2);
    expect(t.err()).toContain(`already running with the state folder ${labDir}`);
    expect(t.out()).toBe('');
    expect(readFileSync(join(labDir, ENDPOINTS_FILE), 'utf8')).toBe(before);
    const demo = io();
    expect(await main(['demo', '--state', labDir, '--yes', '--json'], demo)).toBe(2);
    expect(JSON.parse(demo.out())).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(readFileSync(join(labDir, ENDPOINTS_FILE), 'utf8')).toBe(before);
  });
});

describe('--lab DIR for the helpdesk commands (in-process lab)', () => {
  it("test-bootstrap --lab DIR --pin '101:13579' --json: stages 3–8 done; with --register 9 too", async () => {
    const r = await run(['test-bootstrap', '--lab', labDir, '--pin', '101:13579', '--json']);
    expect(r.code, r.out).toBe(0);
    const doc = JSON.parse(r.out) as { ok: boolean; domain: string; stages: StageRow[]; result: { chain: { rootFingerprint: string } } };
    expect(doc.domain).toBe('contoso.test');
    expect(doc.stages.filter((s) => s.n >= 3 && s.n <= 8).map((s) => s.outcome)).toEqual(Array(6).fill('done'));
    expect(doc.stages.find((s) => s.n === 9)!.outcome).toBe('not-applicable');
    expect(doc.result.chain.rootFingerprint).toBe(lab.ca.rootFingerprint);

    const reg = await run(['test-bootstrap', '--lab', labDir, '--pin', '101:13579', '--register', '--json']);
    expect(reg.code, reg.out).toBe(0);
    expect((JSON.parse(reg.out) as { stages: StageRow[] }).stages.filter((s) => s.n >= 3).map((s) => s.outcome)).toEqual(Array(7).fill('done'));
  });

  it('test-bootstrap: an explicit --root-fingerprint replaces the lab’s root (explicit flags win)', async () => {
    const other = 'AB:'.repeat(31) + 'AB';
    const r = await run(['test-bootstrap', '--lab', labDir, '--pin', '101:13579', '--root-fingerprint', other, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as { stages: StageRow[] };
    expect(doc.stages.find((s) => s.n === 6)!.error!.code).toBe('CHAIN_ROOT_UNTRUSTED');
  });

  it('discover --lab DIR finds the Registrar through the lab’s DNS; --domain wins', async () => {
    const r = await run(['discover', '--lab', labDir, '--json']);
    expect(r.code, r.out).toBe(0);
    const doc = JSON.parse(r.out) as { ok: boolean; domain: string; dnsServer: string; registrar: { host: string } };
    expect(doc).toMatchObject({ ok: true, domain: 'contoso.test', dnsServer: lab.dnsServer });
    expect(doc.registrar.host).toMatch(/contoso\.test$/);

    const other = await run(['discover', '--lab', labDir, '--domain', 'fabrikam.test', '--json']);
    expect(other.code).toBe(1);
    expect((JSON.parse(other.out) as { domain: string }).domain).toBe('fabrikam.test');
  });

  it('test-auth --lab DIR signs in to the lab’s NTLM port, trusting the root by its fingerprint', async () => {
    const r = await run(['test-auth', '--lab', labDir, '--ntlm', 'CONTOSO\\alice', '--json'], { TETHER_PASSWORD: lab.endpoints.users[0]!.password });
    expect(r.code, r.out + r.err).toBe(0);
    // Authentication is what is tested: the empty POST after it is no WebTicket request (400).
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, account: 'CONTOSO\\alice', scheme: 'NTLM' });
    expect((JSON.parse(r.out) as { url: string }).url).toBe(`${lab.endpoints.https}/WebTicket/WebTicketService.svc/WebTicketServiceWinNtlm`);

    const wrong = await run(['test-auth', '--lab', labDir, '--ntlm', 'CONTOSO\\alice', '--json'], { TETHER_PASSWORD: 'not-it' });
    expect(wrong.code).toBe(1);
  });

  it('test-auth refuses a lab root whose fingerprint is not the published one', async () => {
    const dir = join(tmp.dir, 'tampered');
    const doc = JSON.parse(readFileSync(join(labDir, ENDPOINTS_FILE), 'utf8')) as LabEndpointsFile;
    writeEndpoints(dir, { ...doc, ca: { ...doc.ca, fingerprint: 'CD:'.repeat(31) + 'CD' } });
    const r = await run(['test-auth', '--lab', dir, '--ntlm', 'CONTOSO\\alice', '--json'], { TETHER_PASSWORD: 'x' });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', detail: { reason: 'fingerprint-mismatch' } } });
  });

  it('probe chain --lab DIR pins the lab’s root; probe register --lab DIR reaches the Registrar over verified TLS', async () => {
    const chain = await run(['probe', 'chain', '--lab', labDir, '--json']);
    expect(chain.code, chain.out + chain.err).toBe(0);
    expect(JSON.parse(chain.out)).toMatchObject({ ok: true, chain: { trust: 'pinned', rootFingerprint: lab.ca.rootFingerprint, serverVerified: true } });

    const sipUri = lab.context.users.all()[0]!.sipUri;
    const challenged = await run(['probe', 'register', '--lab', labDir, '--sip', sipUri, '--json']);
    expect(challenged.code).toBe(1);
    expect((JSON.parse(challenged.out) as { error: { code: string } }).error.code).toBe('REGISTRAR_CERT_REQUIRED');

    const { csrPem, keyPem } = makeCsr(sipUri);
    writeFileSync(join(tmp.dir, 'user.pem'), lab.context.ca.issueFromCsr(csrPem, sipUri, 24));
    writeFileSync(join(tmp.dir, 'user.key'), keyPem, { mode: 0o600 });
    const ok = await run(['probe', 'register', '--lab', labDir, '--sip', sipUri, '--cert', join(tmp.dir, 'user.pem'), '--key', join(tmp.dir, 'user.key')]);
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(ok.out).toContain(`Registered ${sipUri}`);
  });
});

describe('--lab with no running lab', () => {
  const commands = (dir: string): string[][] => [
    ['test-bootstrap', '--lab', dir, '--pin', '101:13579', '--json'],
    ['discover', '--lab', dir, '--json'],
    ['test-auth', '--lab', dir, '--ntlm', 'CONTOSO\\alice', '--json'],
    ['probe', 'chain', '--lab', dir, '--json'],
  ];

  it('a missing file is a usage error (exit 2) that says to start the lab, for all four commands', async () => {
    const dir = join(tmp.dir, 'never-started');
    for (const args of commands(dir)) {
      const r = await run(args, { TETHER_PASSWORD: 'x' });
      expect(r.code, args.join(' ')).toBe(2);
      const doc = JSON.parse(r.out) as { error: { code: string; message: string; detail: { reason: string } } };
      expect(doc.error).toMatchObject({ code: 'BAD_INPUT', detail: { reason: 'missing' } });
      expect(doc.error.message).toContain('npx tether lab');
    }
  });

  it('a file left by a lab that was killed (its pid is gone) is stale, for all four commands', async () => {
    const dir = join(tmp.dir, 'killed');
    const doc = JSON.parse(readFileSync(join(labDir, ENDPOINTS_FILE), 'utf8')) as LabEndpointsFile;
    writeEndpoints(dir, { ...doc, pid: await deadPid() });
    for (const args of commands(dir)) {
      const r = await run(args, { TETHER_PASSWORD: 'x' });
      expect(r.code, args.join(' ')).toBe(2);
      const e = (JSON.parse(r.out) as { error: { message: string; detail: { reason: string } } }).error;
      expect(e.detail.reason).toBe('stale');
      expect(e.message).toContain('no longer running');
      expect(e.message).toContain('npx tether lab');
    }
  });

  it('a malformed, truncated or hostile file is a usage error, not a crash', async () => {
    const dir = join(tmp.dir, 'bad');
    const good = readFileSync(join(labDir, ENDPOINTS_FILE), 'utf8');
    const doc = JSON.parse(good) as LabEndpointsFile;
    const bad: unknown[] = [
      '',
      good.slice(0, good.length / 2),
      '[]',
      'null',
      { ...doc, format: 'something-else/9' },
      { ...doc, pid: -1 },
      { ...doc, pid: '1' },
      { ...doc, dns: 42 },
      { ...doc, dns: '127.0.0.1' },
      { ...doc, https: 'http://pool01.contoso.test:1' },
      { ...doc, http: 'not a url' },
      { ...doc, ca: null },
      { ...doc, ca: { ...doc.ca, fingerprint: 'AA' } },
      { ...doc, dhcp: '999.1.1.1:67' },
      { ...doc, registrarPort: 70000 },
      { ...doc, domain: 'x'.repeat(5000) },
    ];
    for (const b of bad) {
      writeEndpoints(dir, b);
      await expect(readLabEndpoints(dir), JSON.stringify(b).slice(0, 80)).rejects.toMatchObject({ code: 'BAD_INPUT', detail: { reason: 'malformed' } });
    }
  });
});

describe('a spawned `tether lab --state DIR`', () => {
  it('writes endpoints.json, test-bootstrap --lab DIR signs in to it, and SIGTERM removes the file', async () => {
    const dir = join(tmp.dir, 'spawned');
    const child = spawn(process.execPath, ['bin/tether.mjs', 'lab', '--state', dir, '--quiet'], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited ${code} before printing`)));
      });
      const printed = JSON.parse(first) as { dns: string; users: { pin: string }[] };
      expect(printed.users[0]!.pin).toMatch(/^\d+$/);
      const target = await readLabEndpoints(dir);
      expect(target.pid).toBe(child.pid);
      expect(target.dns).toBe(printed.dns);
      const r = await run(['test-bootstrap', '--lab', dir, '--pin', '101:13579', '--register', '--json']);
      expect(r.code, r.out).toBe(0);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, ENDPOINTS_FILE))).toBe(false);
    await expect(readLabEndpoints(dir)).rejects.toMatchObject({ detail: { reason: 'missing' } });
  });
});

describe('the optional-value flag (--lab [DIR])', () => {
  const table = { lab: flag.optional('.tether-lab'), json: flag.boolean() };
  const parse = (args: string[]) => parseArgs(args, table, { usage: 'u' }).flags;

  it('takes the default alone or before another flag, a value after it or after =', () => {
    expect(parse([]).lab).toBeUndefined();
    expect(parse(['--lab']).lab).toBe('.tether-lab');
    expect(parse(['--lab', '--json'])).toEqual({ lab: '.tether-lab', json: true });
    expect(parse(['--lab', '/tmp/x', '--json'])).toEqual({ lab: '/tmp/x', json: true });
    expect(parse(['--lab=/tmp/y']).lab).toBe('/tmp/y');
  });

  it('refuses it twice and an empty =', () => {
    expect(() => parse(['--lab', '--lab'])).toThrow(/once/);
    expect(() => parse(['--lab='])).toThrow(/needs a value/);
  });
});
