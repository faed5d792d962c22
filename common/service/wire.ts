import type { SerializedTetherError } from '../errors/tether-error';
import { SERVICE_EVENTS, type ServiceEventName, type ServiceEvents } from './contract';

/**
 * The messages that carry the service contract across a boundary: Electron IPC (through the
 * preload) and the loopback browser host's WebSocket use the same shapes, so both front ends are
 * one renderer. Pure: the renderer imports it too.
 *
 *   front end → core:  { type: 'call', id, name, args }
 *   core → front end:  { type: 'result', id, ok: true, value } | { type: 'result', id, ok: false, error }
 *                      { type: 'event', event, payload }
 */

export interface CallMessage {
  readonly type: 'call';
  readonly id: number;
  readonly name: string;
  readonly args: unknown;
}

/** An error as a front end sees it: a typed error from the core, or a refused payload. Never a secret. */
export type WireError = SerializedTetherError | { readonly type: 'ContractError'; readonly message: string };

export type ResultMessage =
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: WireError };

export interface EventMessage<E extends ServiceEventName = ServiceEventName> {
  readonly type: 'event';
  readonly event: E;
  readonly payload: ServiceEvents[E];
}

export type CoreMessage = ResultMessage | EventMessage;

/** Largest message a front end may send (a call with a 256-character secret fits many times over). */
export const MAX_CALL_BYTES = 16 * 1024;

/** Parses a front end's message; null when it is not a well-formed call envelope (its args are checked by validateCall). */
export function parseCallMessage(data: unknown): CallMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  if (m.type !== 'call' || typeof m.name !== 'string') return null;
  if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id) || m.id < 0) return null;
  const keys = Object.keys(m);
  if (keys.some((k) => k !== 'type' && k !== 'id' && k !== 'name' && k !== 'args')) return null;
  return { type: 'call', id: m.id, name: m.name, args: m.args };
}

/** Parses a message from the core (the renderer's side); null when malformed. */
export function parseCoreMessage(data: unknown): CoreMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  if (m.type === 'event') {
    if (typeof m.event !== 'string' || !(SERVICE_EVENTS as readonly string[]).includes(m.event)) return null;
    return m as unknown as EventMessage;
  }
  if (m.type === 'result' && typeof m.id === 'number' && typeof m.ok === 'boolean') {
    if (!m.ok && (typeof m.error !== 'object' || m.error === null)) return null;
    return m as unknown as ResultMessage;
  }
  return null;
}

/** An Error a front end can throw and show: code and message from the core's typed error. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  readonly code: string;
  readonly wire: WireError;
  constructor(wire: WireError) {
    super(wire.message);
    this.wire = wire;
    this.code = wire.type === 'ContractError' ? 'CONTRACT' : wire.code;
  }
}

/** Electron IPC channels: the preload sends calls on one and hears the core on the other. */
export const IPC_CALL_CHANNEL = 'tether:call';
export const IPC_CORE_CHANNEL = 'tether:core';
