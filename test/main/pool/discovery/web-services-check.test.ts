import { describe, expect, it } from 'vitest';
import { encodeUcClientOption43 } from '../../../../common/pool/dhcp-options';
import { OPTION, type DhcpPacket } from '../../../../common/pool/dhcp-packet';
import { readPoolAnswer } from '../../../../main/pool/discovery/dhcp-answer';
import { checkWebServices, discoverPool } from '../../../../main/pool/discovery/discover';
import { fakeResolver } from './fake-resolver';

const D = 'contoso.test';
const zone = {
  srv: { [`_sipinternaltls._tcp.${D}`]: [{ name: 'pool01.contoso.test', port: 5061, priority: 0, weight: 0 }] },
  a: { 'pool01.contoso.test': ['10.0.0.1'], 'web.contoso.test': ['10.0.0.2'], [`ucupdates-r2.${D}`]: ['10.0.0.9'] } as Record<string, string[]>,
};

function withOption43(webServerFqdn: string) {
  const o43 = encodeUcClientOption43({ ucIdentifier: 'MS-UC-Client', urlScheme: 'https', webServerFqdn, webServerPort: 443, certProvRelPath: '/CertProv/CertProvisioningService.svc' });
  const packet: DhcpPacket = {
    op: 2, xid: 1, secs: 0, flags: 0, ciaddr: '10.0.0.50', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: '02:00:00:00:00:01', options: new Map([[OPTION.serverId, Uint8Array.of(10, 0, 0, 254)], [OPTION.vendorSpecific, o43]]),
  };
  return readPoolAnswer(packet, '10.0.0.254');
}

describe('Web Services host check (stage 6 seen from discovery)', () => {
  it('option 43 naming a known host: resolves, no warning', async () => {
    const r = await discoverPool({ domain: D, resolver: fakeResolver(zone), dhcp: withOption43('web.contoso.test') });
    expect(r.webServicesCheck).toEqual({ host: 'web.contoso.test', addresses: ['10.0.0.2'], resolves: true, warning: null });
  });

  it('a stale option 43 (NXDOMAIN): WEB_SERVICES_UNRESOLVED at ca-chain with the [S10] text and the DHCPUtil fix; discovery itself still succeeds', async () => {
    const resolver = fakeResolver(zone);
    const r = await discoverPool({ domain: D, resolver, dhcp: withOption43('webpool-old.contoso.test') });
    expect(r.registrar?.host).toBe('pool01.contoso.test');
    expect(resolver.asked).toContain('A webpool-old.contoso.test');
    const check = r.webServicesCheck!;
    expect(check).toMatchObject({ host: 'webpool-old.contoso.test', addresses: [], resolves: false });
    expect(check.warning).toMatchObject({
      type: 'TetherError',
      code: 'WEB_SERVICES_UNRESOLVED',
      stage: 'ca-chain',
      detail: { host: 'webpool-old.contoso.test', source: 'dhcp-option-43', server: 'fake:53' },
      cmdlet: 'DHCPUtil.exe -EmulateClient',
    });
    expect(check.warning!.message).toMatch(/from DHCP option 43, sub-option 3 WebServerFqdn\) .*NXDOMAIN.*Unable to locate Lync Certificate Web service/);
    expect(check.warning!.fix).toMatch(/Option 43 is wrong or stale.*DHCPUtil/);
  });

  it('a DNS server that stops answering is DNS_UNAVAILABLE (cannot tell), not "wrong option 43"', async () => {
    const r = await checkWebServices({ url: 'https://web.contoso.test/CertProv/CertProvisioningService.svc', source: 'dhcp-option-43' }, fakeResolver({ down: true }));
    expect(r).toMatchObject({ resolves: false, warning: { code: 'DNS_UNAVAILABLE', stage: 'ca-chain' } });
  });

  it('derived from the Registrar: the Registrar FQDN itself is checked; an IPv4 literal needs no lookup', async () => {
    const derived = await discoverPool({ domain: D, resolver: fakeResolver(zone) });
    expect(derived.webServicesCheck).toEqual({ host: 'pool01.contoso.test', addresses: ['10.0.0.1'], resolves: true, warning: null });
    const resolver = fakeResolver({});
    const literal = await checkWebServices({ url: 'https://10.1.2.3:4443/CertProv/CertProvisioningService.svc', source: 'dhcp-option-43' }, resolver);
    expect(literal).toEqual({ host: '10.1.2.3', addresses: ['10.1.2.3'], resolves: true, warning: null });
    expect(resolver.asked).toEqual([]);
  });

  it('no Web Services URL at all (no Registrar, no option 43): no check', async () => {
    const r = await discoverPool({ domain: D, resolver: fakeResolver({}) });
    expect(r.webServices).toBeNull();
    expect(r.webServicesCheck).toBeNull();
  });
});
