import type { ServiceCallName, ServiceEventName, ServiceEvents, TetherService } from '../../common/service/contract';

/**
 * A TetherService for transport tests (IPC, WebSocket, the renderer's panels): it records every
 * call it receives and answers from a table, and lets the test emit events. It stands in for the
 * core only where the thing under test is the carrier, never for the sign-in itself.
 */
export interface RecordingService extends TetherService {
  readonly calls: { name: ServiceCallName; args: unknown }[];
  emit<E extends ServiceEventName>(event: E, payload: ServiceEvents[E]): void;
  listenerCount(event: ServiceEventName): number;
}

export function recordingService(answers: Partial<Record<ServiceCallName, (args: never) => unknown>> = {}): RecordingService {
  const calls: { name: ServiceCallName; args: unknown }[] = [];
  const listeners = new Map<ServiceEventName, Set<(p: unknown) => void>>();
  const call = (name: ServiceCallName) => async (args: unknown) => {
    calls.push({ name, args });
    const answer = answers[name] as ((a: unknown) => unknown) | undefined;
    return answer ? answer(args) : undefined;
  };
  return {
    calls,
    listPhones: call('listPhones') as TetherService['listPhones'],
    startSignIn: call('startSignIn') as TetherService['startSignIn'],
    confirmPairing: call('confirmPairing') as TetherService['confirmPairing'],
    provideCredentials: call('provideCredentials') as TetherService['provideCredentials'],
    cancel: call('cancel') as TetherService['cancel'],
    retry: call('retry') as TetherService['retry'],
    jobs: call('jobs') as TetherService['jobs'],
    history: call('history') as TetherService['history'],
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (p: unknown) => void);
      return () => void set.delete(listener as (p: unknown) => void);
    },
    emit(event, payload) {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
    listenerCount: (event) => listeners.get(event)?.size ?? 0,
  };
}
