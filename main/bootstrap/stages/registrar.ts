import { TetherError } from '../../../common/errors';
import { OPTION, type DhcpPacket } from '../../../common/pool/dhcp-packet';
import { readPoolAnswer, type DhcpPoolAnswer } from '../../pool/discovery/dhcp-answer';
import { findRegistrarStage, tlsRegistrarOf } from '../pool-stages';
import { domainOf, progressOf } from './common';
import { registrarOutside } from './external';
import type { NetworkFacts, StageDefinition } from './types';
import type { PoolStageDefinition } from './pool-types';

/** The phone's raw option 43/120 bytes (saved by stage 2) read as a DHCP answer. */
function dhcpAnswerOf(network: NetworkFacts | undefined, serial: string): DhcpPoolAnswer | null {
  const options = new Map<number, Uint8Array>();
  if (network?.option43Hex) options.set(OPTION.vendorSpecific, new Uint8Array(Buffer.from(network.option43Hex, 'hex')));
  if (network?.option120Hex) options.set(OPTION.sipServers, new Uint8Array(Buffer.from(network.option120Hex, 'hex')));
  if (options.size === 0) return null;
  const packet: DhcpPacket = { op: 2, xid: 0, secs: 0, flags: 0, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: '00:00:00:00:00:00', options };
  return readPoolAnswer(packet, `phone ${serial}`);
}

/** Stage 5: the phone's option 43/120 first, then DNS in the six-step order; the pool is set on the phone. */
export const registrarStage: StageDefinition<'registrar'> = {
  id: 'registrar',
  needs: 'paired phone',
  pool: true,
  async run(ctx) {
    if (ctx.spec.network === 'external') return registrarOutside(ctx);
    const domain = domainOf(ctx);
    const dhcp = dhcpAnswerOf(ctx.facts.ip, ctx.spec.serial);
    const found = await findRegistrarStage(
      { domain, resolver: ctx.services.resolver, dhcp, dhcpProblem: dhcp === null ? 'the phone received no option 43 or 120' : null, httpsPort: ctx.policy.httpsPort ?? undefined },
      progressOf(ctx),
    );
    const tls = tlsRegistrarOf(found.value);
    if (!tls) throw new TetherError('DNS_NO_REGISTRAR', 'No TLS Registrar was found; a phone signs in over TLS only.', { detail: { domain } });
    ctx.progress({ message: `setting the pool on the phone (Registrar ${tls.host}:${tls.port})` });
    const deviceUpdate = ctx.facts['find-update'];
    await (await ctx.phone()).session.call('setPoolEndpoints', {
      registrar: { fqdn: tls.host, port: tls.port },
      webServicesInternal: found.value.webServices.url,
      webServicesExternal: null,
      deviceUpdateInternal: deviceUpdate?.found ? deviceUpdate.url : null,
      deviceUpdateExternal: null,
    });
    return { facts: found.value, summary: `${found.summary}; set on the phone` };
  },
};

/** Stage 5 without a phone: DHCP (asked, or given) and DNS in the six-step order, and the Web Services URL. */
export const registrarPoolStage: PoolStageDefinition<'discovery'> = {
  id: 'registrar',
  needs: 'none',
  key: 'discovery',
  run: (r, progress) =>
    findRegistrarStage(
      {
        domain: r.domain,
        resolver: r.options.resolver,
        dhcp: r.options.dhcp ?? null,
        dhcpProblem: r.options.dhcp === undefined && !r.options.askDhcp ? 'not asked (add --dhcp-inform IFACE)' : null,
        ...(r.options.askDhcp ? { askDhcp: r.options.askDhcp } : {}),
        ...(r.options.webServicesUrl === undefined ? {} : { webServicesUrl: r.options.webServicesUrl }),
        httpsPort: r.options.httpsPort,
        ...(r.options.random ? { random: r.options.random } : {}),
      },
      progress,
    ),
};
