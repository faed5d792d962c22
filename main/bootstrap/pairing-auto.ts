import type { PairingRequest } from './phone-bootstrap';

/**
 * Pairing without a person (the demo with --yes, or no terminal): compare the code the phone says
 * it displays with Tether's. That trusts the phone's own report of its display, which is sound
 * only for a virtual phone this process created; a phone on USB (or anything claiming to be one)
 * could report any text, so it is never confirmed automatically: a person must compare the codes.
 */
export interface AutoPairingDecision {
  readonly confirmed: boolean;
  readonly reason: 'match' | 'differ' | 'not-virtual';
}

export function autoConfirmPairing(req: Pick<PairingRequest, 'source' | 'phoneDisplay' | 'pairing'>): AutoPairingDecision {
  if (req.source !== 'virtual') return { confirmed: false, reason: 'not-virtual' };
  const confirmed = (req.phoneDisplay ?? '').replace(/\D/g, '').includes(req.pairing.sas);
  return { confirmed, reason: confirmed ? 'match' : 'differ' };
}
