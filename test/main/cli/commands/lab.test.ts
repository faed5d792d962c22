import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../../main/cli';
import { parseLabArgs } from '../../../../main/cli/commands/lab';
import { tempDir } from '../../../lab/support';

let tmp: { dir: string; remove: () => void };
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.remove());

describe('tether lab', () => {
  it('prints its endpoints as one JSON line first, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/tether.mjs', 'lab', '--state', tmp.dir, '--fault', 'srv-missing', '--fault', 'slow-responses', '--domain', 'contoso.test'], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        const rl = createInterface({ input: child.stdout! });
        rl.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited ${code} before printing`)));
      });
      const endpoints = JSON.parse(first) as Record<string, unknown> & {
        dns: string;
        ca: { fingerprint: string; rootPem: string };
        users: { sipUri: string; ntlm: string; password: string; pin: string }[];
      };
      expect(endpoints).toMatchObject({ domain: 'contoso.test', faults: ['srv-missing', 'slow-responses'] });
      expect(endpoints.http).toMatch(/^http:\/\/pool01\.contoso\.test:\d+$/);
      expect(endpoints.https).toMatch(/^https:\/\/pool01\.contoso\.test:\d+$/);
      expect(endpoints.admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/lab\/faults$/);
      expect(endpoints.ca.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(endpoints.ca.rootPem.startsWith(tmp.dir)).toBe(true);
      expect(endpoints.users.map((u) => u.ntlm)).toEqual(['CONTOSO\\alice', 'CONTOSO\\bob', 'CONTOSO\\carol']);
      expect(endpoints.users[0]!.pin).toMatch(/^\d+$/);
      // It serves: the printed DNS answers, with the fault given on the command line.
      const r = new Resolver({ timeout: 1000, tries: 1 });
      r.setServers([endpoints.dns]);
      expect(await r.resolve4('ucupdates-r2.contoso.test')).toEqual(['127.0.0.1']);
      await expect(r.resolveSrv('_sipinternaltls._tcp.contoso.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('parses its flags and refuses bad ones as usage errors (exit 2)', async () => {
    expect(parseLabArgs(['--state', 's', '--fault', 'account-locked', '--http-port', '8080', '--https-port', '0', '--dns-port', '5353', '--slow-ms', '50', '--lockout', '3'])).toMatchObject({
      stateDir: 's',
      faults: ['account-locked'],
      httpPort: 8080,
      httpsPort: 0,
      dnsPort: 5353,
      slowMs: 50,
      lockoutThreshold: 3,
    });
    const io = () => {
      const err: string[] = [];
      return { err, io: { stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) }, env: {} } };
    };
    for (const args of [['--fault', 'nope'], ['--http-port', 'x'], ['--http-port', '70000'], ['--lockout', '0'], ['--bogus'], ['--state']]) {
      const o = io();
      const code = await main(['lab', ...args], o.io);
      expect(code, args.join(' ')).not.toBe(0);
      expect(o.err.join('')).toMatch(/error/);
    }
    const o = io();
    expect(await main(['lab', '--bogus'], o.io)).toBe(2);
  });
});
