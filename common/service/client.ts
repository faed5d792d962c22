import { CALL_VALIDATORS, SERVICE_EVENTS, validateCall, type ServiceCallName, type ServiceEventName, type ServiceEvents, type TetherService } from './contract';
import { RemoteError, parseCoreMessage, type CallMessage, type CoreMessage } from './wire';

/**
 * The front end's side of the contract over any message carrier (the preload's IPC channel, the
 * browser host's WebSocket): a TetherService whose methods are generated from the contract's call
 * list, so a call added to the contract appears here without another list to keep in step.
 * Arguments are checked before they leave (the core checks them again where they enter).
 */

export interface MessageCarrier {
  send(message: CallMessage): void;
  /** Subscribes to the core's messages; returns an unsubscribe. */
  onMessage(listener: (data: unknown) => void): () => void;
}

export interface ServiceClient extends TetherService {
  /** Rejects every call still waiting (the carrier closed). */
  failPending(reason: string): void;
  close(): void;
}

export function createServiceClient(carrier: MessageCarrier): ServiceClient {
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<ServiceEventName, Set<(payload: never) => void>>(SERVICE_EVENTS.map((e) => [e, new Set()]));

  const onCore = (message: CoreMessage) => {
    if (message.type === 'event') {
      for (const listener of listeners.get(message.event) ?? []) (listener as (p: unknown) => void)(message.payload);
      return;
    }
    const entry = waiting.get(message.id);
    if (!entry) return;
    waiting.delete(message.id);
    if (message.ok) entry.resolve(message.value);
    else entry.reject(new RemoteError(message.error));
  };
  const off = carrier.onMessage((data) => {
    const message = parseCoreMessage(data);
    if (message) onCore(message);
  });

  const call = (name: ServiceCallName, args: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      try {
        validateCall(name, args);
      } catch (err) {
        reject(err);
        return;
      }
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      carrier.send({ type: 'call', id, name, args });
    });

  const methods = Object.fromEntries((Object.keys(CALL_VALIDATORS) as ServiceCallName[]).map((name) => [name, (args: unknown) => call(name, args)]));

  return {
    ...(methods as unknown as Pick<TetherService, ServiceCallName>),
    on<E extends ServiceEventName>(event: E, listener: (payload: ServiceEvents[E]) => void): () => void {
      const set = listeners.get(event);
      if (!set) throw new RangeError(`unknown event ${String(event).slice(0, 40)}`);
      set.add(listener as (payload: never) => void);
      return () => void set.delete(listener as (payload: never) => void);
    },
    failPending(reason) {
      for (const [, entry] of waiting) entry.reject(new Error(reason));
      waiting.clear();
    },
    close() {
      off();
      this.failPending('closed');
    },
  };
}
