import { TetherError } from '../common/errors';
import { FAULT_NAMES, type FaultName, type LabFaults } from './context';

export const DEFAULT_SLOW_MS = 2000;

export function isFaultName(value: unknown): value is FaultName {
  return typeof value === 'string' && (FAULT_NAMES as readonly string[]).includes(value);
}

/** Checks a fault name from the command line or the admin endpoint. */
export function parseFaultName(value: string): FaultName {
  if (!isFaultName(value)) {
    throw new TetherError('LAB_UNKNOWN_FAULT', `Unknown fault '${value}'. Known: ${FAULT_NAMES.join(', ')}.`, {
      detail: { fault: value.slice(0, 64) },
    });
  }
  return value;
}

type Listener = (fault: FaultName | 'slowMs', on: boolean) => void;

/** The lab's switchboard of faults; services read it on every request, so a change acts at once. */
export function createLabFaults(initial: Iterable<FaultName> = [], slowMs = DEFAULT_SLOW_MS): LabFaults {
  const on = new Set<FaultName>();
  for (const f of initial) on.add(parseFaultName(f));
  const listeners = new Set<Listener>();
  let delay = slowMs;
  const notify = (fault: FaultName | 'slowMs', value: boolean) => {
    for (const l of [...listeners]) l(fault, value);
  };
  return {
    has: (fault) => on.has(fault),
    set(fault, value) {
      const name = parseFaultName(fault);
      if (on.has(name) === value) return;
      if (value) on.add(name);
      else on.delete(name);
      notify(name, value);
    },
    // Listed in FAULT_NAMES order so output is stable.
    list: () => FAULT_NAMES.filter((f) => on.has(f)),
    get slowMs() {
      return delay;
    },
    set slowMs(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new TetherError('BAD_INPUT', `slowMs must be a number ≥ 0, not ${ms}.`);
      delay = ms;
      notify('slowMs', on.has('slow-responses'));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
