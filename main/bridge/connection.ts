import { toTetherError } from '../../common/errors';
import { ContractError, SERVICE_EVENTS, validateCall, type ProgressEventView, type ServiceEventName, type ServiceEvents, type TetherService } from '../../common/service/contract';
import { parseCallMessage, type CoreMessage, type WireError } from '../../common/service/wire';

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
}

export interface Connection {
  /** Handles one message from the front end (already JSON-decoded). Never throws. */
  receive(data: unknown): Promise<void>;
  close(): void;
  /** How many events were sent and how many progress reports coalescing dropped (for the bench). */
  readonly stats: { sent: number; coalesced: number };
}

export function wireError(err: unknown): WireError {
  if (err instanceof ContractError) return { type: 'ContractError', message: err.message };
  return toTetherError(err).toJSON();
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
        const { name, args } = validateCall(call.name, call.args);
        const fn = service[name] as (a: unknown) => Promise<unknown>;
        const value = await fn.call(service, args);
        emit({ type: 'result', id: call.id, ok: true, value: value ?? null });
      } catch (err) {
        emit({ type: 'result', id: call.id, ok: false, error: wireError(err) });
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
