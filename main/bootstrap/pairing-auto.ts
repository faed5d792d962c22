import type { PairingQuestion } from './stages/types';

/**
 * Pairing without a person (the demo, the bench, `provision --virtual`): compare the code the phone
 * says it displays with Tether's. That trusts the phone's own report of its display, which is sound
 * only for a virtual phone this process created; a phone on USB (or anything claiming to be one)
 * could report any text, so it is never confirmed automatically: a person must compare the codes.
 */
export interface AutoPairingDecision {
  readonly confirmed: boolean;
  readonly reason: 'match' | 'differ' | 'not-virtual';
}

export function autoConfirmPairing(q: Pick<PairingQuestion, 'source' | 'phoneDisplay' | 'code'>): AutoPairingDecision {
  if (q.source !== 'virtual') return { confirmed: false, reason: 'not-virtual' };
  const confirmed = (q.phoneDisplay ?? '').replace(/\D/g, '').includes(q.code);
  return { confirmed, reason: confirmed ? 'match' : 'differ' };
}

/**
 * The service's standing decision (TetherServiceOptions.autoConfirmPairing) for a host whose phones
 * are virtual: confirm a match, refuse a mismatch, and leave a real phone's code to a person.
 */
export function virtualPhonePairing(q: PairingQuestion): boolean | undefined {
  const d = autoConfirmPairing(q);
  return d.reason === 'not-virtual' ? undefined : d.confirmed;
}
