import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAGES } from '../../common/stages';
import { Journal, processOwner, type JsonObject } from '../journal';
import type { BenchFigure } from './report';

/** Facts of about the size a real sign-in records: a few lines per stage, PEM blocks for the chain and certificate. */
function factsFor(stage: string): JsonObject {
  const pem = (n: number) => `-----BEGIN CERTIFICATE-----\n${'MIIB'.repeat(n)}\n-----END CERTIFICATE-----`;
  if (stage === 'ca-chain') return { chainPem: [pem(300), pem(300)], webServicesUrl: 'https://pool.contoso.com/CertProv/CertProvisioningService.svc' };
  if (stage === 'certificate') return { certificatePem: pem(300), notAfter: '2027-12-05T00:00:00Z' };
  return { note: `${stage} facts`, url: 'https://pool.contoso.com/DeviceUpdateFiles_Int/', registrar: 'pool.contoso.com' };
}

export interface JournalCost {
  readonly signIns: number;
  readonly writesPerSignIn: number;
  /** Time inside the journal's calls per sign-in (their sum), in ms. */
  readonly msPerSignIn: number;
  /** One write call's time, in ms. */
  readonly writeMsP50: number;
  readonly writeMsP99: number;
  readonly writeMsMax: number;
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/**
 * Makes the journal writes one sign-in makes (phone seen, job created and claimed, nine stage
 * records, final state, sign-in mark, audit entry) `signIns` times in a fresh journal on the temp
 * disk, timing each call. The journal's calls are synchronous, so each one's time is also how long
 * it holds the event loop.
 */
export async function measureJournalWrites(signIns: number, synchronous: 'NORMAL' | 'FULL'): Promise<JournalCost> {
  const dir = await mkdtemp(join(tmpdir(), 'tether-bench-journal-'));
  const journal = await Journal.open({ dir: join(dir, 'data'), synchronous });
  const times: number[] = [];
  const timed = (fn: () => unknown): void => {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  };
  try {
    const owner = processOwner();
    for (let i = 0; i < signIns; i++) {
      const serial = `CX600-BENCH${i}`;
      const jobId = `job-bench-${String(i).padStart(6, '0')}`;
      timed(() => journal.seenDevice({ serial, modelId: 'CX600', firmware: '4.0.7577.4100' }));
      timed(() => journal.createJob({ jobId, spec: { serial, kind: 'pin', user: '101' }, policy: { firmware: 'offered' } }));
      timed(() => journal.claim(jobId, owner));
      timed(() => journal.setJobState(jobId, 'running'));
      for (const { id } of STAGES) {
        timed(() => journal.recordStage(jobId, { stage: id, status: 'done', facts: factsFor(id), summary: `${id} done`, startedAt: i, endedAt: i + 1 }));
      }
      timed(() => journal.setJobState(jobId, 'signed-in'));
      timed(() => journal.markSignedIn({ serial, network: 'internal', facts: { externalUpdateUrl: 'https://ext.contoso.com/RequestHandlerExt/ucdevice.upx' } }));
      timed(() => journal.audit({ kind: 'sign-in', serial, jobId, summary: `signed in ${serial}` }));
    }
  } finally {
    journal.close();
    await rm(dir, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  return {
    signIns,
    writesPerSignIn: times.length / signIns,
    msPerSignIn: total / signIns,
    writeMsP50: quantile(sorted, 0.5),
    writeMsP99: quantile(sorted, 0.99),
    writeMsMax: sorted[sorted.length - 1] ?? 0,
  };
}

/**
 * The journal's cost per sign-in in the bench: the WAL + synchronous=NORMAL setting Tether uses,
 * next to synchronous=FULL (an fsync per commit) for the record of why NORMAL was chosen.
 */
export async function journalBench(quick: boolean, onFigure: (f: BenchFigure) => void, onNote?: (text: string) => void): Promise<void> {
  const bench = 'journal';
  const signIns = quick ? 20 : 200;
  onNote?.(`${bench}: the journal writes of ${signIns} sign-ins, synchronous=NORMAL then FULL …`);
  const normal = await measureJournalWrites(signIns, 'NORMAL');
  const full = await measureJournalWrites(signIns, 'FULL');
  onFigure({ bench, metric: 'writes-per-sign-in', value: normal.writesPerSignIn, unit: 'writes', goal: null });
  onFigure({ bench, metric: 'ms-per-sign-in', value: normal.msPerSignIn, unit: 'ms', goal: null });
  onFigure({ bench, metric: 'write-p50', value: normal.writeMsP50, unit: 'ms', goal: null });
  onFigure({ bench, metric: 'write-p99', value: normal.writeMsP99, unit: 'ms', goal: null });
  onFigure({ bench, metric: 'write-max', value: normal.writeMsMax, unit: 'ms', goal: null });
  onFigure({ bench, metric: 'full-sync-ms-per-sign-in', value: full.msPerSignIn, unit: 'ms', goal: null });
  onFigure({ bench, metric: 'full-sync-write-p99', value: full.writeMsP99, unit: 'ms', goal: null });
  onFigure({ bench, metric: 'full-over-normal', value: full.msPerSignIn / normal.msPerSignIn, unit: 'x', goal: null });
}
