import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STAGES, type StageId } from '../../../common/stages';
import { importDeviceUpdateImage, testImageChunks } from '../../../lab/device-update';
import { nextVersion } from '../../../main/cli/demo-service';
import { Journal } from '../../../main/journal';
import { findModel } from '../../../native/usb/catalogue';
import { CANARY_PASSWORD, CANARY_PIN, filesHolding, seedCanaryLab } from '../../support/canary-lab';
import { seeded } from '../../support/seeded';

/**
 * Crash safety end to end: Tether, the lab and eight virtual phones in a child process, SIGKILLed
 * at ≥ 20 random points during their sign-ins (after a random number of journal-backed events,
 * plus a random few milliseconds), then started again until every job has ended. No job is lost,
 * none is created twice, each run resumes a job right after its last completed stage (stage 7 when
 * the web ticket it needs is gone), no stage that was completed runs again, and every job signs
 * in. The canary PIN and password appear in no file of the data folder and in no output.
 */

const CHILD = resolve(import.meta.dirname, '../../support/kill-child.ts');
const KILLS = 20;
const SEED = Number(process.env.KILL_SEED ?? Date.now() % 100_000);

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}
async function freeDnsPort(): Promise<number> {
  for (;;) {
    const port = await freeTcpPort();
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => (ok ? udp.close(() => r()) : r()));
    if (ok) return port;
  }
}

interface Line {
  type: string;
  jobId?: string;
  serial?: string;
  stage?: StageId;
  status?: string;
  reason?: string;
  lastCompleted?: StageId | null;
  state?: string;
  code?: string | null;
}

interface RunLog {
  lines: Line[];
  output: string;
  killed: boolean;
}

function runChild(env: NodeJS.ProcessEnv, killAfterStages: number | null, jitterMs: number): Promise<RunLog> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Line[] = [];
    let output = '';
    let buffered = '';
    let stages = 0;
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t: string) => (output += t));
    child.stdout.on('data', (t: string) => {
      output += t;
      buffered += t;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as Line;
        lines.push(line);
        if (line.type === 'stage' && killAfterStages !== null && ++stages === killAfterStages && !killed) {
          killed = true;
          setTimeout(() => child.kill('SIGKILL'), jitterMs);
        }
      }
    });
    child.on('error', fail);
    child.on('exit', () => done({ lines, output, killed }));
  });
}

let base: string | undefined;
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

describe('SIGKILL during sign-ins, then start again', () => {
  it(`loses no job, runs none twice, resumes each after its last completed stage (seed ${SEED})`, async () => {
    base = await mkdtemp(join(tmpdir(), 'tether-kill-'));
    const labDir = join(base, 'lab');
    await seedCanaryLab(labDir);
    const cx600 = findModel('CX600')!;
    const version = nextVersion(cx600.firmwareVersion);
    await importDeviceUpdateImage(labDir, {
      vendor: cx600.vendor,
      model: cx600.id,
      revision: cx600.hardwareRevision,
      locale: cx600.locale,
      version,
      data: testImageChunks(`kill-test:${version}`, 384 * 1024),
      approve: true,
    });
    const ports = { http: await freeTcpPort(), https: await freeTcpPort(), dns: await freeDnsPort(), registrar: await freeTcpPort() };
    const env = { KILL_DIR: base, KILL_PORTS: JSON.stringify(ports) };
    const random = seeded(SEED);
    const runs: RunLog[] = [];
    let kills = 0;
    for (let attempt = 0; attempt < 80; attempt++) {
      const kill = kills < KILLS;
      const run = await runChild(env, kill ? 1 + Math.floor(random() * 9) : null, Math.floor(random() * 25));
      runs.push(run);
      if (run.killed) kills++;
      if (run.lines.some((l) => l.type === 'all-done')) {
        if (kills >= KILLS) break;
        // Everything ended before twenty kills: the job set is done; more kills would find no work.
        break;
      }
    }
    expect(kills, `kills (seed ${SEED})`).toBeGreaterThanOrEqual(KILLS);
    expect(runs.at(-1)!.lines.some((l) => l.type === 'all-done')).toBe(true);

    // No job lost, none created twice: one job per phone, every one signed in.
    const journal = await Journal.open({ dir: join(base, 'data') });
    const jobs = journal.jobs();
    journal.close();
    expect(jobs.map((j) => j.spec.serial).sort()).toEqual([...new Set(jobs.map((j) => j.spec.serial))].sort());
    expect(jobs).toHaveLength(8);
    expect(jobs.map((j) => [j.spec.serial, j.state])).toEqual(jobs.map((j) => [j.spec.serial, 'signed-in']));

    // Each run resumes a job right after its last completed stage (7 when the ticket is gone).
    const index = (s: StageId) => STAGES.findIndex((x) => x.id === s);
    let checked = 0;
    for (const run of runs) {
      for (const r of run.lines.filter((l) => l.type === 'resume')) {
        const first = run.lines.find((l) => l.type === 'stage' && l.jobId === r.jobId && l.status === 'started');
        if (!first) continue; // killed before it started, or nothing was left to run
        const after = r.lastCompleted ? index(r.lastCompleted) + 1 : 0;
        const expected = r.lastCompleted === 'auth' || r.lastCompleted === 'certificate' ? index('auth') : after;
        expect(index(first.stage!), `${r.jobId} resumed after ${r.lastCompleted}`).toBe(expected);
        checked++;
      }
    }
    // The kills landed mid-job: resumed jobs were checked, not only fresh ones.
    expect(checked).toBeGreaterThanOrEqual(KILLS / 2);
    console.log(`kill test (seed ${SEED}): ${runs.length} runs, ${kills} kills, ${checked} resumes checked`);
    // No completed stage ran again, but for stages 7–8 when stage 9 had not been reached.
    const done = new Map<string, number>();
    for (const run of runs) for (const l of run.lines) if (l.type === 'stage' && l.status === 'done') done.set(`${l.jobId}/${l.stage}`, (done.get(`${l.jobId}/${l.stage}`) ?? 0) + 1);
    for (const [key, n] of done) if (!/\/(auth|certificate)$/.test(key)) expect(n, key).toBe(1);
    // A resumed job that needed the credentials again said so.
    for (const run of runs.slice(1)) {
      const resumed = new Set(run.lines.filter((l) => l.type === 'resume').map((l) => l.jobId));
      for (const n of run.lines.filter((l) => l.type === 'needs' && resumed.has(l.jobId))) expect(n.reason).toBe('resumed');
    }

    // The canaries: in no file of the data folder, in no output.
    const output = runs.map((r) => r.output).join('\n');
    for (const secret of [CANARY_PIN, CANARY_PASSWORD]) {
      expect(output.includes(secret), `output holds ${secret === CANARY_PIN ? 'the PIN' : 'the password'}`).toBe(false);
      expect(await filesHolding(join(base, 'data'), secret)).toEqual([]);
    }
  }, 600_000);
});
