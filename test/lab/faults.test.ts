import { describe, expect, it } from 'vitest';
import { FAULT_NAMES } from '../../lab/context';
import { createLabFaults, parseFaultName } from '../../lab/faults';

describe('lab faults', () => {
  it('starts with the given faults, lists them in catalogue order and reports changes', () => {
    const faults = createLabFaults(['slow-responses', 'srv-missing'], 10);
    expect(faults.list()).toEqual(['srv-missing', 'slow-responses']);
    const seen: string[] = [];
    const off = faults.onChange((f, on) => seen.push(`${f}=${on}`));
    faults.set('account-locked', true);
    faults.set('account-locked', true); // no change, no event
    faults.set('srv-missing', false);
    faults.slowMs = 25;
    off();
    faults.set('account-locked', false);
    expect(seen).toEqual(['account-locked=true', 'srv-missing=false', 'slowMs=true']);
    expect(faults.has('account-locked')).toBe(false);
    expect(faults.slowMs).toBe(25);
  });

  it('rejects unknown names and bad delays with typed errors', () => {
    expect(() => parseFaultName('srv-gone')).toThrowError(expect.objectContaining({ code: 'LAB_UNKNOWN_FAULT' }));
    expect(() => createLabFaults(['nope' as never])).toThrowError(expect.objectContaining({ code: 'LAB_UNKNOWN_FAULT' }));
    const faults = createLabFaults();
    expect(() => (faults.slowMs = -1)).toThrowError(expect.objectContaining({ code: 'BAD_INPUT' }));
    for (const name of FAULT_NAMES) expect(parseFaultName(name)).toBe(name);
  });
});
