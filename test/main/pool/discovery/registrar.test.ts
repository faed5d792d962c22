import { describe, expect, it } from 'vitest';
import { encodeOption120, encodeUcClientOption43 } from '../../../../common/pool/dhcp-options';
import { OPTION, type DhcpPacket } from '../../../../common/pool/dhcp-packet';
import { readPoolAnswer } from '../../../../main/pool/discovery/dhcp-answer';
import { discoverPool } from '../../../../main/pool/discovery/discover';
import { fakeResolver } from './fake-resolver';

const D = 'contoso.test';
const srv = (name: string, port = 5061, priority = 0, weight = 0) => [{ name, port, priority, weight }];
const full = {
  srv: {
    [`_sipinternaltls._tcp.${D}`]: srv('fe-tls.contoso.test'),
    [`_sipinternal._tcp.${D}`]: srv('fe-tcp.contoso.test', 5060),
    [`_sip._tls.${D}`]: srv('edge-tls.contoso.test', 443),
    [`_sip._tcp.${D}`]: srv('edge-tcp.contoso.test', 5060),
  },
  a: {
    'fe-tls.contoso.test': ['10.0.0.1'],
    'fe-tcp.contoso.test': ['10.0.0.2'],
    'dhcp-pool.contoso.test': ['10.0.0.3'],
    'edge-tls.contoso.test': ['10.0.0.4'],
    'edge-tcp.contoso.test': ['10.0.0.5'],
    [`sipinternal.${D}`]: ['10.0.0.6'],
    [`sip.${D}`]: ['10.0.0.7'],
    [`sipexternal.${D}`]: ['10.0.0.8'],
    [`ucupdates-r2.${D}`]: ['10.0.0.9'],
  } as Record<string, string[]>,
};

function dhcpWith(options: [number, Uint8Array][]) {
  const packet: DhcpPacket = {
    op: 2, xid: 1, secs: 0, flags: 0, ciaddr: '10.0.0.50', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: '02:00:00:00:00:01', options: new Map([[OPTION.serverId, Uint8Array.of(10, 0, 0, 254)], ...options]),
  };
  return readPoolAnswer(packet, '10.0.0.254');
}
const dhcp120 = dhcpWith([[OPTION.sipServers, encodeOption120(['dhcp-pool.contoso.test'])]]);

/** Removes the records that step N relies on, so the next step has to take over. */
function without(...keys: string[]) {
  const s = { ...full.srv } as Record<string, ReturnType<typeof srv>>;
  const a = { ...full.a };
  for (const k of keys) {
    delete s[k];
    delete a[k];
  }
  return { srv: s, a };
}

const chosenStep = async (zone: Parameters<typeof fakeResolver>[0], dhcp = dhcp120) => {
  const r = await discoverPool({ domain: D, resolver: fakeResolver(zone), dhcp, random: () => 0 });
  return { step: r.registrar?.step ?? null, host: r.registrar?.host ?? null, result: r };
};

describe("the vendor's six-step Registrar order", () => {
  it('1: internal SRV TLS wins when present', async () => {
    expect(await chosenStep(full)).toMatchObject({ step: 1, host: 'fe-tls.contoso.test' });
  });
  it('2: DHCP option 120 (TLS, 5061) when internal TLS SRV is missing', async () => {
    const { step, host, result } = await chosenStep(without(`_sipinternaltls._tcp.${D}`));
    expect({ step, host }).toEqual({ step: 2, host: 'dhcp-pool.contoso.test' });
    expect(result.registrar?.port).toBe(5061);
    expect(result.candidates[0]).toMatchObject({ step: 1, status: 'skipped', reason: expect.stringMatching(/no SRV record: no such name/) });
  });
  it('2 also when the SRV target has no A record (the candidate says why)', async () => {
    const { step, result } = await chosenStep(without('fe-tls.contoso.test'));
    expect(step).toBe(2);
    expect(result.candidates[0]!.reason).toMatch(/fe-tls.contoso.test has no A record/);
  });
  it('3: internal SRV TCP when neither internal TLS nor DHCP gives one', async () => {
    expect(await chosenStep(without(`_sipinternaltls._tcp.${D}`), dhcpWith([]))).toMatchObject({ step: 3, host: 'fe-tcp.contoso.test' });
  });
  it('4: DHCP TCP (5060) when both internal SRV are missing', async () => {
    const { step, result } = await chosenStep(without(`_sipinternaltls._tcp.${D}`, `_sipinternal._tcp.${D}`, 'dhcp-pool.contoso.test'));
    // The DHCP name does not resolve, so both DHCP steps skip; external TLS follows.
    expect(step).toBe(5);
    const probeFailsForTls = async (host: string, port: number) => {
      if (port === 5061) throw new Error('connection refused');
      void host;
    };
    const r = await discoverPool({
      domain: D,
      resolver: fakeResolver(without(`_sipinternaltls._tcp.${D}`, `_sipinternal._tcp.${D}`)),
      dhcp: dhcp120,
      probe: probeFailsForTls,
    });
    expect(r.registrar).toMatchObject({ step: 4, host: 'dhcp-pool.contoso.test', port: 5060, transport: 'tcp' });
    expect(r.candidates.find((c) => c.step === 2)?.reason).toMatch(/did not accept a connection: connection refused/);
    void result;
  });
  it('5: external SRV TLS when nothing internal exists', async () => {
    expect(await chosenStep(without(`_sipinternaltls._tcp.${D}`, `_sipinternal._tcp.${D}`), dhcpWith([]))).toMatchObject({ step: 5, host: 'edge-tls.contoso.test' });
  });
  it('6: external SRV TCP last among SRV', async () => {
    expect(await chosenStep(without(`_sipinternaltls._tcp.${D}`, `_sipinternal._tcp.${D}`, `_sip._tls.${D}`), dhcpWith([]))).toMatchObject({ step: 6 });
  });
  it('then the A-record fallbacks sipinternal:5061, sip:443, sipexternal:443', async () => {
    const noSrv = without(`_sipinternaltls._tcp.${D}`, `_sipinternal._tcp.${D}`, `_sip._tls.${D}`, `_sip._tcp.${D}`);
    expect((await chosenStep(noSrv, dhcpWith([]))).result.registrar).toMatchObject({ step: 7, host: `sipinternal.${D}`, port: 5061 });
    expect((await chosenStep(without(...Object.keys(noSrv.srv), ...Object.keys(full.srv), `sipinternal.${D}`), dhcpWith([]))).result.registrar).toMatchObject({
      step: 8,
      port: 443,
    });
    const none = await chosenStep(without(...Object.keys(full.srv), `sipinternal.${D}`, `sip.${D}`, `sipexternal.${D}`), dhcpWith([]));
    expect(none.step).toBeNull();
    expect(none.result.registrarError?.code).toBe('DNS_NO_REGISTRAR');
    expect(none.result.candidates.every((c) => c.status === 'skipped')).toBe(true);
  });
  it('lists every candidate, marks later usable ones as not needed, and keeps SRV order within a step', async () => {
    const zone = {
      ...full,
      srv: { ...full.srv, [`_sipinternaltls._tcp.${D}`]: [...srv('fe2.contoso.test', 5061, 10), ...srv('fe-tls.contoso.test', 5061, 0), ...srv('.', 0, 20)] },
      a: { ...full.a, 'fe2.contoso.test': ['10.0.0.11'] },
    };
    const { result } = await chosenStep(zone);
    const step1 = result.candidates.filter((c) => c.step === 1);
    expect(step1.map((c) => [c.host, c.status])).toEqual([
      ['fe-tls.contoso.test', 'chosen'],
      ['fe2.contoso.test', 'usable'],
      [null, 'skipped'],
    ]);
    expect(step1[2]!.reason).toMatch(/"\." \(service not offered\)/);
    expect(result.candidates.map((c) => c.step)).toEqual([1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.candidates.filter((c) => c.status === 'usable').every((c) => /not needed/.test(c.reason))).toBe(true);
  });
  it('DHCP steps explain themselves: not asked, no option 120, an IP address in option 120', async () => {
    const notAsked = await discoverPool({ domain: D, resolver: fakeResolver(full), dhcp: null });
    expect(notAsked.candidates.find((c) => c.step === 2)?.reason).toMatch(/DHCP was not asked/);
    const no120 = await discoverPool({ domain: D, resolver: fakeResolver(full), dhcp: dhcpWith([]) });
    expect(no120.candidates.find((c) => c.step === 2)?.reason).toMatch(/has no option 120/);
    const ip120 = await discoverPool({ domain: D, resolver: fakeResolver(full), dhcp: dhcpWith([[OPTION.sipServers, Uint8Array.of(1, 10, 0, 0, 3)]]) });
    expect(ip120.candidates.find((c) => c.step === 2)?.reason).toMatch(/must be an FQDN/);
    expect(ip120.dhcp?.option120?.error?.code).toBe('DHCP_OPTION120_ADDRESS');
  });
  it('Web Services URL: option 43 first, else derived from the Registrar FQDN', async () => {
    const o43 = encodeUcClientOption43({ ucIdentifier: 'MS-UC-Client', urlScheme: 'https', webServerFqdn: 'web.contoso.test', webServerPort: 4443, certProvRelPath: '/CertProv/CertProvisioningService.svc' });
    const withDhcp = await discoverPool({ domain: D, resolver: fakeResolver(full), dhcp: dhcpWith([[OPTION.vendorSpecific, o43]]) });
    expect(withDhcp.webServices).toEqual({ url: 'https://web.contoso.test:4443/CertProv/CertProvisioningService.svc', source: 'dhcp-option-43' });
    const derived = await discoverPool({ domain: D, resolver: fakeResolver(full), dhcp: null });
    expect(derived.webServices).toEqual({ url: 'https://fe-tls.contoso.test/CertProv/CertProvisioningService.svc', source: 'derived-from-registrar' });
  });
  it('Device Update FQDN: ucupdates-r2.<domain>, or a typed find-update error', async () => {
    const found = await discoverPool({ domain: D, resolver: fakeResolver(full) });
    expect(found.deviceUpdate).toMatchObject({ fqdn: `ucupdates-r2.${D}`, found: true, addresses: ['10.0.0.9'], url: `https://ucupdates-r2.${D}/RequestHandler/ucdevice.upx` });
    const missing = await discoverPool({ domain: D, resolver: fakeResolver(without(`ucupdates-r2.${D}`)) });
    expect(missing.deviceUpdate.error).toMatchObject({ code: 'DNS_NO_DEVICE_UPDATE', stage: 'find-update' });
  });
  it('a silent DNS server gives DNS_UNAVAILABLE, not "no records"', async () => {
    const silent = fakeResolver({ down: true });
    const r = await discoverPool({ domain: D, resolver: silent });
    expect(r.registrarError?.code).toBe('DNS_UNAVAILABLE');
    // It is not asked again for the A-record fallbacks (each would cost another timeout).
    expect(silent.asked.filter((q) => q.startsWith('A ') && !q.includes('ucupdates-r2'))).toEqual([]);
    expect(r.candidates.find((c) => c.step === 7)?.reason).toMatch(/not looked up/);
    expect(r.deviceUpdate.error?.code).toBe('DNS_UNAVAILABLE');
  });
  it('refuses a domain that is not a name', async () => {
    await expect(discoverPool({ domain: 'not a domain', resolver: fakeResolver(full) })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
