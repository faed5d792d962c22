import { TetherError, toTetherError } from '../../../common/errors';
import { decodeOption120, decodeUcClientOption43 } from '../../../common/pool/dhcp-options';
import type { NetworkFacts, StageDefinition } from './types';

const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));

/** Stage 2: the phone's DHCP lease and the raw options 43/120 it got, decoded here. */
export const ipStage: StageDefinition<'ip'> = {
  id: 'ip',
  needs: 'paired phone',
  pool: false,
  async run(ctx) {
    const phone = await ctx.phone();
    const status = await phone.session.call('status', {});
    const lease = status.ip;
    if (!lease) throw new TetherError('PHONE_NO_IP_LEASE', undefined, { detail: { serial: phone.identity.serial } });
    const problems = [...(ctx.facts.vlan?.problems ?? [])];
    let certProvUrl: string | null = null;
    let sipServers: string[] | null = null;
    if (status.dhcpOption43) {
      try {
        certProvUrl = decodeUcClientOption43(status.dhcpOption43).certProvUrl;
      } catch (err) {
        problems.push(`option 43: ${toTetherError(err).message}`);
      }
    }
    if (status.dhcpOption120) {
      try {
        sipServers = decodeOption120(status.dhcpOption120);
      } catch (err) {
        problems.push(`option 120: ${toTetherError(err).message}`);
      }
    }
    const facts: NetworkFacts = {
      vlan: ctx.facts.vlan?.vlan ?? null,
      address: lease.address,
      dnsServers: lease.dnsServers,
      domain: lease.domain,
      certProvUrl,
      sipServers,
      optionProblems: problems,
      option43Hex: hex(status.dhcpOption43),
      option120Hex: hex(status.dhcpOption120),
    };
    const o43 = certProvUrl ? `option 43 → ${certProvUrl}` : status.dhcpOption43 ? 'option 43 unreadable' : 'no option 43';
    const o120 = sipServers ? `option 120 → ${sipServers.join(', ')}` : status.dhcpOption120 ? 'option 120 unreadable' : 'no option 120';
    return {
      facts,
      summary: `${lease.address}/${lease.prefixLength}, DNS ${lease.dnsServers.join(', ') || 'none'}${lease.domain ? `, domain ${lease.domain}` : ''}; ${o43}; ${o120}`,
    };
  },
};
