import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';

/** Test helper: a dnsmasq we start ourselves (DNS only, or DHCP inside a namespace). */
export const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => existsSync(p)) ?? null;

/** Why dnsmasq tests cannot run here, or null when they can. In CI they must not skip. */
export function dnsmasqMissing(): string | null {
  if (DNSMASQ === null) return 'dnsmasq is not installed (Debian package dnsmasq-base)';
  return null;
}

/** A TCP port free on 127.0.0.1 at this moment (dnsmasq listens on both TCP and UDP). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Dnsmasq {
  readonly port: number;
  readonly server: string;
  stop(): Promise<void>;
}

/** Starts dnsmasq and resolves once it reports that it has started (its sockets are bound by then). */
export function startProcess(argv: string[], prefix: string[] = []): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const [cmd, ...rest] = [...prefix, DNSMASQ!, '--keep-in-foreground', '--log-facility=-', '--conf-file=/dev/null', '--pid-file=', ...argv];
    const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (/started, version/.test(log)) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`dnsmasq exited (${code}): ${log}`)));
    child.once('error', reject);
  });
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A DNS-only dnsmasq on 127.0.0.1 (no DHCP, no upstream, no /etc/hosts). */
export async function startDnsmasq(records: string[]): Promise<Dnsmasq> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      const child = await startProcess([
        '--no-daemon',
        '--no-resolv',
        '--no-hosts',
        `--port=${port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--local=/test/',
        ...records,
      ]);
      return { port, server: `127.0.0.1:${port}`, stop: () => stopProcess(child) };
    } catch (err) {
      // The port was taken between our probe and dnsmasq's bind: try another.
      if (attempt >= 3) throw err;
    }
  }
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
