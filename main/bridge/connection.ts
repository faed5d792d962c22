import { TetherError } from '../../common/errors';
import { ContractError, SERVICE_EVENTS, validateCall, type ProgressEventView, type ServiceEventName, type ServiceEvents, type TetherService } from '../../common/service/contract';
import { MAX_CALL_BYTES, parseCallMessage, type CoreMessage, type WireError } from '../../common/service/wire';

/**
 * One front end's connection to the service, whatever carries it (Electron IPC or the browser
 * host's WebSocket): every call is checked with validateCall where it enters, errors go back as
 * typed records (never a stack, never a secret), and every service event is forwarded.
 *
 * Progress is coalesced here (latest per job wins, flushed every `progressIntervalMs`), so a
 * 64 MiB firmware push cannot flood a window however often the pipeline reports; any other event
 * of that job first flushes its pending progress, so order is kept.
 */

export interface ConnectionOptions {
  readonly service: TetherService;
  readonly send: (message: CoreMessage) => void;
  readonly progressIntervalMs?: number;
  /** Timers, for tests. */
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
  /** Where a note about an unexpected (non-Tether) error goes; default console.error. */
  readonly logInternal?: (note: string) => void;
}

export interface Connection {
  /** Handles one message from the front end (already JSON-decoded). Never throws. */
  receive(data: unknown): Promise<void>;
  close(): void;
  /** How many events were sent and how many progress reports coalescing dropped (for the bench). */
  readonly stats: { sent: number; coalesced: number };
}

/**
 * A refused payload or a typed error crosses with its own message; anything else crosses as the
 * catalogue's generic INTERNAL (an unexpected error's message may echo input, e.g. a secret).
 */
export function wireError(err: unknown, logInternal: (note: string) => void = defaultLog): WireError {
  if (err instanceof ContractError) return { type: 'ContractError', message: err.message };
  if (err instanceof TetherError) return err.toJSON();
  logInternal(internalNote(err));
  return new TetherError('INTERNAL').toJSON();
}

const defaultLog = (note: string) => console.error(`tether: ${note}`);

/** Where an unexpected error came from, without its message (it may hold a secret): class, code, stack frames. */
export function internalNote(err: unknown): string {
  if (!(err instanceof Error)) return `unexpected ${typeof err} thrown`;
  const code = (err as { code?: unknown }).code;
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 8);
  return [`unexpected ${err.name}${typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? ` (${code})` : ''}`, ...frames].join('\n');
}

/** The call's size as JSON in UTF-8; Infinity when it cannot be serialised (a cycle, a BigInt). */
function serialisedBytes(data: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(data) ?? '', 'utf8');
  } catch {
    return Infinity;
  }
}

export function openConnection(options: ConnectionOptions): Connection {
  const { service, send } = options;
  const interval = options.progressIntervalMs ?? 100;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const stats = { sent: 0, coalesced: 0 };
  const pending = new Map<string, ProgressEventView>();
  let timer: unknown = null;
  let closed = false;

  const emit = (message: CoreMessage) => {
    if (closed) return;
    stats.sent += message.type === 'event' ? 1 : 0;
    send(message);
  };
  const flush = (jobId?: string) => {
    for (const [key, payload] of pending) {
      if (jobId !== undefined && payload.jobId !== jobId) continue;
      pending.delete(key);
      emit({ type: 'event', event: 'progress', payload });
    }
  };
  const onProgress = (payload: ProgressEventView) => {
    if (pending.has(payload.jobId)) stats.coalesced++;
    pending.set(payload.jobId, payload);
    timer ??= setTimer(() => {
      timer = null;
      flush();
    }, interval);
  };

  const unsubscribe = SERVICE_EVENTS.map(<E extends ServiceEventName>(event: E) =>
    service.on(event, (payload: ServiceEvents[E]) => {
      if (event === 'progress') return onProgress(payload as ProgressEventView);
      const jobId = (payload as { jobId?: unknown }).jobId;
      if (typeof jobId === 'string') flush(jobId);
      emit({ type: 'event', event, payload } as CoreMessage);
    }),
  );

  return {
    stats,
    async receive(data) {
      const call = parseCallMessage(data);
      if (!call) {
        // No id to answer to: a malformed envelope is dropped (the carrier may count or close).
        return;
      }
      try {
        // The WebSocket caps a frame at MAX_CALL_BYTES; IPC has no such cap, so every carrier is
        // measured here, before validation walks the payload.
        if (serialisedBytes(data) > MAX_CALL_BYTES) throw new ContractError(`call larger than ${MAX_CALL_BYTES / 1024} KiB refused`);
        const { name, args } = validateCall(call.name, call.args);
        const fn = service[name] as (a: unknown) => Promise<unknown>;
        const value = await fn.call(service, args);
        emit({ type: 'result', id: call.id, ok: true, value: value ?? null });
      } catch (err) {
        emit({ type: 'result', id: call.id, ok: false, error: wireError(err, options.logInternal) });
      }
    },
    close() {
      closed = true;
      for (const off of unsubscribe) off();
      if (timer !== null) clearTimer(timer);
      pending.clear();
    },
  };
}
