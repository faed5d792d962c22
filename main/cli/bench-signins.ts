import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import dc from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { TetherError } from '../../common/errors';
import type { JobView } from '../../common/service/contract';
import type { BenchFigure } from '../bench/report';
import { Journal } from '../journal';
import { ImageCache } from '../pool/update';
import { createPoolResolver } from '../pool/net/resolver';
import { createTetherService } from '../service';
import type { JournalPort } from '../service/journal-port';
import { readLabEndpoints } from './lab-endpoints';
import { openVirtualLabFleet, virtualSpecs } from './virtual-lab';
import { virtualPhonePairing } from '../bootstrap/pairing-auto';
import { tetherBin } from './repo-root';

/**
 * `tether bench --only signins`: 32 virtual phones sign in at once. The lab runs as `tether lab`
 * in a child process so this process's CPU is Tether's and the virtual phones' only; the phones'
 * RSA key generation (their biggest cost) is measured on its own and taken out. Figures, no
 * assertions: per-phone wall time p50/p95, event-loop delay p99 (and, for scale, the same
 * process's p99 while idle just before), CPU per sign-in, pool HTTP
 * requests and TLS handshakes per sign-in, journal writes per sign-in and their time, peak RSS.
 */

const BIN = tetherBin();
const MODELS = ['CX600', 'HP4120', 'CX3000', 'AASTRA6725IP', 'CX700'];

function startLabChild(stateDir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'lab', '--state', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout!.setEncoding('utf8').once('data', () => resolve(child));
    child.once('exit', (code) => reject(new TetherError('INTERNAL', `The lab did not start (exit ${code}): ${err.trim().slice(-300)}`)));
  });
}

/** Counts and times every journal write (the calls that change the file). */
function countingJournal(journal: Journal): { port: JournalPort; writes: () => number; ms: () => number } {
  let writes = 0;
  let ms = 0;
  const WRITES = new Set(['seenDevice', 'markSignedIn', 'createJob', 'recordStage', 'setJobState', 'claim', 'release', 'audit']);
  const port = new Proxy(journal, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (!WRITES.has(String(key))) return (value as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        const t = performance.now();
        try {
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          ms += performance.now() - t;
          writes++;
        }
      };
    },
  }) as unknown as JournalPort;
  return { port, writes: () => writes, ms: () => ms };
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const IDLE_MS = 2000;

/** Event-loop delay p99 of this process while it only waits, in ms. */
async function idleLoopDelayP99Ms(ms: number): Promise<number> {
  const idle = monitorEventLoopDelay({ resolution: 5 });
  idle.enable();
  await new Promise((r) => setTimeout(r, ms));
  idle.disable();
  return idle.percentile(99) / 1e6;
}

async function keygenCpuMs(samples: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < samples; i++) await new Promise((r, j) => generateKeyPair('rsa', { modulusLength: 2048 }, (e) => (e ? j(e) : r(undefined))));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / samples;
}

export async function runSignInBench(phones: number, onFigure: (f: BenchFigure) => void, onNote?: (text: string) => void): Promise<void> {
  const bench = 'signins';
  const dir = await mkdtemp(join(tmpdir(), 'tether-bench-signins-'));
  let lab: ChildProcess | undefined;
  try {
    onNote?.(`${bench}: starting the lab in a child process, ${phones} virtual phones …`);
    lab = await startLabChild(join(dir, 'lab'));
    const target = await readLabEndpoints(join(dir, 'lab'));
    const dnsHost = target.dns.replace(/:\d+$/, '');
    const specs = virtualSpecs(Array.from({ length: phones }, (_, i) => MODELS[i % MODELS.length]!));
    const fleet = await openVirtualLabFleet({ lab: { domain: target.domain, poolFqdn: target.poolFqdn, httpsBase: target.httpsBase, dns: target.dns, host: dnsHost, vlanId: null }, phones: specs });
    // The phones are plugged in (enumerated, session handshakes done) before anyone signs them in:
    // the figures are about the sign-ins, not 32 USB attaches landing in the same second.
    await Promise.all(specs.map((s) => fleet.manager.waitForSerial(s.serial!, { timeoutMs: 60_000 })));
    // The same monitor on this process with nothing to do: what the machine's other load alone
    // makes of the loop's delay at this moment (on a busy build machine it can exceed the goal).
    const idleLoop = await idleLoopDelayP99Ms(IDLE_MS);
    const journal = await Journal.open({ dir: join(dir, 'data') });
    const counted = countingJournal(journal);
    let httpRequests = 0;
    let tlsHandshakes = 0;
    const onRequest = () => void httpRequests++;
    const onSocket = (m: unknown) => {
      const socket = (m as { socket: Socket }).socket;
      // The phones' own SIP/TLS to the registrar is theirs, not Tether's.
      socket.once('secureConnect', () => socket.remotePort !== target.registrarPort && tlsHandshakes++);
    };
    dc.subscribe('http.client.request.start', onRequest);
    dc.subscribe('net.client.socket', onSocket);
    const service = createTetherService({
      devices: fleet.manager,
      journal: counted.port,
      resolver: createPoolResolver({ server: target.dns }),
      imageCache: new ImageCache(join(dir, 'images')),
      catalogue: fleet.catalogue,
      osRoots: [],
      policy: { rootFingerprints: [target.rootFingerprint], trustOsStore: false, httpPort: target.httpPort, httpsPort: target.httpsPort, registrationTimeoutMs: 60_000 },
      autoConfirmPairing: virtualPhonePairing,
      maxJobs: phones,
    });
    const started = new Map<string, number>();
    const wall: number[] = [];
    const finals: JobView[] = [];
    service.on('job', (j) => {
      if (!['signed-in', 'failed', 'cancelled'].includes(j.state)) return;
      finals.push(j);
      wall.push(performance.now() - started.get(j.jobId)!);
    });
    service.on('needsCredentials', (n) => void service.provideCredentials({ jobId: n.jobId, secret: n.kind === 'pin' ? '13579' : 'Lab-Alice-2026!' }));
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    for (const s of specs) {
      const ntlm = s.model === 'CX700';
      const { jobId } = await service.startSignIn(ntlm ? { serial: s.serial!, kind: 'ntlm', user: 'CONTOSO\\alice', sipUri: 'sip:alice@contoso.test' } : { serial: s.serial!, kind: 'pin', user: '101' });
      started.set(jobId, t0);
    }
    await service.idle();
    const total = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    loop.disable();
    dc.unsubscribe('http.client.request.start', onRequest);
    dc.unsubscribe('net.client.socket', onSocket);
    const signedIn = finals.filter((j) => j.state === 'signed-in').length;
    const failed = finals.filter((j) => j.state !== 'signed-in');
    if (failed.length > 0) onNote?.(`${bench}: not signed in: ${failed.map((j) => `${j.spec.serial} ${j.failure?.code ?? j.state}`).join(', ')}`);
    // RSA key generation varies a lot from key to key (the prime search): average a dozen.
    const keygen = await keygenCpuMs(12);
    const cpuMs = (used.user + used.system) / 1000;
    const sorted = [...wall].sort((a, b) => a - b);
    const per = (n: number) => n / Math.max(1, signedIn);
    onFigure({ bench, metric: 'signed-in', value: signedIn, unit: `of ${phones}`, goal: `>= ${phones}` });
    onFigure({ bench, metric: 'wall-p50', value: percentile(sorted, 50), unit: 'ms', goal: null });
    onFigure({ bench, metric: 'wall-p95', value: percentile(sorted, 95), unit: 'ms', goal: null });
    onFigure({ bench, metric: 'wall-all', value: total, unit: 'ms', goal: null });
    onFigure({ bench, metric: 'event-loop-delay-p99', value: loop.percentile(99) / 1e6, unit: 'ms', goal: '<= 20' });
    onFigure({ bench, metric: 'event-loop-delay-p99-idle', value: idleLoop, unit: 'ms', goal: null });
    onFigure({ bench, metric: 'process-cpu-per-signin', value: per(cpuMs), unit: 'ms', goal: null });
    onFigure({ bench, metric: 'phone-keygen-cpu', value: keygen, unit: 'ms', goal: null });
    onFigure({ bench, metric: 'tether-cpu-per-signin', value: per(cpuMs) - keygen, unit: 'ms', goal: '<= 50' });
    onFigure({ bench, metric: 'http-requests-per-signin', value: per(httpRequests), unit: 'requests', goal: null });
    onFigure({ bench, metric: 'tls-handshakes-per-signin', value: per(tlsHandshakes), unit: 'handshakes', goal: null });
    onFigure({ bench, metric: 'journal-writes-per-signin', value: per(counted.writes()), unit: 'writes', goal: null });
    onFigure({ bench, metric: 'journal-ms-per-signin', value: per(counted.ms()), unit: 'ms', goal: null });
    onFigure({ bench, metric: 'peak-rss', value: process.resourceUsage().maxRSS / 1024, unit: 'MiB', goal: null });
    await service.close();
    await fleet.close();
    journal.close();
  } finally {
    lab?.kill('SIGTERM');
    await new Promise((r) => (lab && lab.exitCode === null ? lab.once('exit', r) : r(undefined)));
    await rm(dir, { recursive: true, force: true });
  }
}
