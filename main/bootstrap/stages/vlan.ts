import { toTetherError } from '../../../common/errors';
import { decodeVlanOption43 } from '../../../common/pool/dhcp-options';
import type { StageDefinition } from './types';

/** Stage 1: the voice VLAN, as the phone learnt it (LLDP-MED, DHCP, or configured) [S15]. */
export const vlanStage: StageDefinition<'vlan'> = {
  id: 'vlan',
  needs: 'paired phone',
  pool: false,
  async run(ctx) {
    const status = await (await ctx.phone()).session.call('status', {});
    const problems: string[] = [];
    let vlan = status.vlan;
    if (vlan === null && status.vlanSource === 'dhcp' && status.dhcpOption43) {
      try {
        vlan = decodeVlanOption43(status.dhcpOption43);
      } catch (err) {
        problems.push(toTetherError(err).message);
      }
    }
    return {
      facts: { vlan, source: status.vlanSource, problems },
      summary: vlan === null ? 'no voice VLAN: the phone uses the untagged port' : `VLAN ${vlan} (${status.vlanSource ?? 'configured'})`,
    };
  },
};
