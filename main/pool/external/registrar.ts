import { findRegistrar, EXTERNAL_REGISTRAR_STEPS, type RegistrarOutcome, type ReachabilityProbe } from '../discovery/registrar';
import type { RandomSource } from '../discovery/srv-order';
import type { PoolResolver } from '../net/resolver';

/**
 * Stage 5 outside the corporate network: `_sip._tls.<domain>`, `_sip._tcp.<domain>` (the vendor's
 * steps 5 and 6 [S13]), then the A records sipexternal.<domain>:443 and sip.<domain>:443 [S16][S29],
 * through the external DNS. The same walk as inside (every candidate and its verdict), other steps.
 */
export function findExternalRegistrar(search: {
  readonly domain: string;
  readonly resolver: PoolResolver;
  readonly random?: RandomSource;
  readonly probe?: ReachabilityProbe;
}): Promise<RegistrarOutcome> {
  return findRegistrar({ ...search, dhcp: null, dhcpProblem: 'not used outside the corporate network', steps: EXTERNAL_REGISTRAR_STEPS });
}
