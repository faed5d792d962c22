import { describe, expect, it } from 'vitest';
import { autoConfirmPairing, virtualPhonePairing } from '../../../main/bootstrap/pairing-auto';
import type { PairingQuestion } from '../../../main/bootstrap/stages/types';

const q = (over: Partial<PairingQuestion>): PairingQuestion => ({ serial: 'CX600-V001', modelId: 'CX600', code: '482913', phoneDisplay: null, reason: 'start', source: 'virtual', ...over });

describe('automatic pairing confirmation (the demo without a person)', () => {
  it('confirms a virtual phone whose display shows the code, and refuses one that does not', () => {
    expect(autoConfirmPairing(q({ phoneDisplay: 'Pair with PC\n482 913' }))).toEqual({ confirmed: true, reason: 'match' });
    expect(autoConfirmPairing(q({ phoneDisplay: 'Pair with PC\n111 111' }))).toEqual({ confirmed: false, reason: 'differ' });
    expect(autoConfirmPairing(q({ phoneDisplay: null }))).toEqual({ confirmed: false, reason: 'differ' });
  });

  it('never confirms a phone that is not virtual, even when its reported display shows the code', () => {
    // A real phone's "display text" is whatever its firmware (or an impostor) reports: only a person may compare.
    expect(autoConfirmPairing(q({ source: 'usb', phoneDisplay: '482 913' }))).toEqual({ confirmed: false, reason: 'not-virtual' });
  });

  it('as the service\'s standing decision: confirm, refuse, or leave a real phone to a person (undefined)', () => {
    expect(virtualPhonePairing(q({ phoneDisplay: '482 913' }))).toBe(true);
    expect(virtualPhonePairing(q({ phoneDisplay: '000 000' }))).toBe(false);
    expect(virtualPhonePairing(q({ source: 'usb', phoneDisplay: '482 913' }))).toBeUndefined();
  });
});
