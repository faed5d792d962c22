import { createLogUpdate } from 'log-update';
import type { JobView, ServiceEvents, TetherService } from '../../common/service/contract';
import { STAGES, stageNumber, type StageId } from '../../common/stages';
import type { CliIO } from './io';

/**
 * How `provision`, `jobs --resume` and `demo` show jobs: one JSON object per line (`--json`), one
 * live row per phone redrawn in place on a terminal (log-update), or one line per finished stage
 * when the output is a file or a pipe.
 */

const FINAL = new Set(['signed-in', 'failed', 'cancelled']);
const title = (id: StageId) => STAGES.find((s) => s.id === id)!.title;

/** The final line of a job for --json: the certificate and chain, or the typed error with its entry. */
export function resultLine(j: JobView): Record<string, unknown> {
  return {
    type: 'result',
    jobId: j.jobId,
    serial: j.spec.serial,
    modelId: j.modelId,
    outcome: j.state,
    stages: j.stages.map((s) => ({ stage: stageNumber(s.stage), id: s.stage, status: s.status, summary: s.summary })),
    sipUri: j.result?.sipUri ?? null,
    registrar: j.result?.registrar ?? null,
    certificatePem: j.result?.certificatePem ?? null,
    chainPem: j.result?.chainPem ?? null,
    error: j.failure,
  };
}

interface Row {
  serial: string;
  model: string;
  stage: StageId | null;
  status: string;
  fraction: number | null;
  message: string;
}

export interface JobPrinter {
  /** Called with each finished job. */
  done(job: JobView): void;
  /** Stops listening; leaves the last frame on screen. */
  stop(): void;
}

export function printJobs(service: TetherService, io: CliIO, mode: 'json' | 'tty' | 'lines'): JobPrinter {
  const out = (line: string) => io.stdout.write(line + '\n');
  const offs: (() => void)[] = [];
  const rows = new Map<string, Row>();
  const bar = (f: number | null) => (f === null ? ''.padEnd(12) : `${'█'.repeat(Math.round(f * 12)).padEnd(12, '░')}`);
  // A terminal that reports no size (0 × 0, e.g. under `script`) still gets rows: assume 160 × 50.
  const size = io.stdout as { columns?: number; rows?: number };
  const screen = {
    isTTY: true,
    get columns() {
      return size.columns || 160;
    },
    get rows() {
      return size.rows || 50;
    },
    write: (chunk: string) => io.stdout.write(chunk),
  };
  const draw = mode === 'tty' ? createLogUpdate(screen as unknown as NodeJS.WritableStream, { showCursor: true }) : null;
  const redraw = () =>
    draw?.(
      [...rows.values()]
        .map((r) => {
          const where = r.stage === null ? '    ' : `${String(stageNumber(r.stage)).padStart(2)}/9`;
          return `${r.serial.padEnd(18)} ${r.model.padEnd(13)} ${where} ${bar(r.fraction)} ${r.status.padEnd(10)} ${r.message}`.slice(0, Math.max(40, screen.columns) - 1);
        })
        .join('\n'),
    );
  const row = (serial: string): Row => {
    let r = rows.get(serial);
    if (!r) rows.set(serial, (r = { serial, model: '', stage: null, status: 'queued', fraction: null, message: '' }));
    return r;
  };

  offs.push(
    service.on('stage', (e: ServiceEvents['stage']) => {
      if (mode === 'json') {
        out(JSON.stringify({ type: 'stage', jobId: e.jobId, serial: e.serial, stage: stageNumber(e.stage), id: e.stage, status: e.status, summary: e.summary, at: e.at, ...(e.failure ? { error: e.failure } : {}) }));
        return;
      }
      const r = row(e.serial);
      r.stage = e.stage;
      r.status = e.status;
      r.fraction = e.status === 'done' || e.status === 'skipped' ? 1 : null;
      r.message = e.status === 'started' ? title(e.stage) : e.failure ? `${e.failure.code}: ${e.failure.userSees}` : (e.summary ?? '');
      if (mode === 'lines' && e.status !== 'started') out(`${e.serial}  ${String(stageNumber(e.stage)).padStart(2)} ${title(e.stage)}: ${e.status}${e.summary ? ` — ${e.summary}` : ''}`);
      redraw();
    }),
    service.on('progress', (p) => {
      if (mode === 'json') {
        out(JSON.stringify({ type: 'stage', jobId: p.jobId, serial: p.serial, stage: stageNumber(p.stage), id: p.stage, status: 'progress', message: p.message, ...(p.fraction === undefined ? {} : { fraction: p.fraction }), ...(p.bytes === undefined ? {} : { bytes: p.bytes, totalBytes: p.totalBytes }) }));
        return;
      }
      const r = row(p.serial);
      r.stage = p.stage;
      r.status = 'running';
      r.fraction = p.fraction ?? r.fraction;
      r.message = p.message;
      redraw();
    }),
    service.on('pairing', (p) => {
      if (mode === 'json') out(JSON.stringify({ type: 'pairing', jobId: p.jobId, serial: p.serial, code: p.code, reason: p.reason }));
      else {
        row(p.serial).message = `pairing: code ${p.code}${p.reason === 'after-reboot' ? ' (after the firmware reboot)' : ''}`;
        redraw();
      }
    }),
    service.on('needsCredentials', (n) => {
      if (mode === 'json') out(JSON.stringify({ type: 'needs-credentials', jobId: n.jobId, serial: n.serial, kind: n.kind, user: n.user, reason: n.reason }));
    }),
    service.on('job', (j) => {
      const r = row(j.spec.serial);
      r.model = j.modelId ?? r.model;
      if (!FINAL.has(j.state)) {
        r.status = j.state;
        redraw();
      }
    }),
  );

  return {
    done(j) {
      if (mode === 'json') {
        out(JSON.stringify(resultLine(j)));
        return;
      }
      const r = row(j.spec.serial);
      r.status = j.state;
      r.message = j.state === 'signed-in' ? `signed in as ${j.result?.sipUri ?? j.spec.user}` : j.failure ? `${j.failure.code}: ${j.failure.userSees}` : j.state;
      redraw();
      if (mode === 'lines') out(`${j.spec.serial}  ${r.message}`);
    },
    stop() {
      for (const off of offs) off();
      draw?.done();
    },
  };
}

/** Failures after the live rows: what the user sees, what they can do, and what to tell the admin. */
export function explainFailures(jobs: readonly JobView[], io: CliIO): void {
  for (const j of jobs) {
    if (!j.failure) continue;
    const f = j.failure;
    const where = f.stage ? ` at stage ${stageNumber(f.stage)} (${title(f.stage)})` : '';
    io.stdout.write(`\n${j.spec.serial}: ${j.state}${where}: ${f.code}\n  ${f.error.message}\n  you can: ${f.userCan}\n  admin: ${f.adminFix}\n${f.cmdlet ? `  check: ${f.cmdlet}\n` : ''}`);
  }
}
