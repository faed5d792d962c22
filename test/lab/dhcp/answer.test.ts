import { describe, expect, it } from 'vitest';
import { decodeOption120, decodeUcClientOption43, decodeVlanOption43 } from '../../../common/pool/dhcp-options';
import { decodeDhcpPacket, MESSAGE_TYPE, messageType, OPTION } from '../../../common/pool/dhcp-packet';
import { answerDhcp } from '../../../lab/dhcp/answer';
import { labDhcpOptions, staleWebServerFqdn } from '../../../lab/dhcp/options';
import { informBytes, MAC, withType } from './support';

const input = { domain: 'contoso.test', poolFqdn: 'pool01.contoso.test', httpsBase: 'https://pool01.contoso.test:18443', vlanId: 20 as number | null, wrong: false };
const ctx = (over: Partial<typeof input> = {}) => ({ options: () => labDhcpOptions({ ...input, ...over }), serverId: '127.0.0.1' });

function answered(bytes: Uint8Array, c = ctx()) {
  const v = answerDhcp(bytes, c);
  if (v.kind !== 'answer') throw new Error(`expected an answer, got ${JSON.stringify(v)}`);
  return decodeDhcpPacket(v.reply);
}

describe('lab DHCP options', () => {
  it('option 43 assembles the CertProv URL on the lab HTTPS port; option 120 is the pool FQDN', () => {
    const o = labDhcpOptions(input);
    expect(decodeUcClientOption43(o.option43)).toEqual({
      ucIdentifier: 'MS-UC-Client',
      urlScheme: 'https',
      webServerFqdn: 'pool01.contoso.test',
      webServerPort: 18443,
      certProvRelPath: '/CertProv/CertProvisioningService.svc',
      certProvUrl: 'https://pool01.contoso.test:18443/CertProv/CertProvisioningService.svc',
    });
    expect(o.certProvUrl).toBe('https://pool01.contoso.test:18443/CertProv/CertProvisioningService.svc');
    // Encoding byte 0, then DNS labels (RFC 3361).
    expect(Buffer.from(o.option120).toString('hex')).toBe('00' + '06' + Buffer.from('pool01').toString('hex') + '07' + Buffer.from('contoso').toString('hex') + '04' + Buffer.from('test').toString('hex') + '00');
    expect(decodeOption120(o.option120)).toEqual(['pool01.contoso.test']);
    expect(decodeVlanOption43(o.vlanOption43!)).toBe(20);
  });

  it("'option43-wrong' names a stale Web Services FQDN, keeps option 120, and never names the pool itself", () => {
    const o = labDhcpOptions({ ...input, wrong: true });
    expect(decodeUcClientOption43(o.option43).webServerFqdn).toBe('webpool-old.contoso.test');
    expect(o.certProvUrl).toBe('https://webpool-old.contoso.test:18443/CertProv/CertProvisioningService.svc');
    expect(decodeOption120(o.option120)).toEqual(['pool01.contoso.test']);
    expect(staleWebServerFqdn('contoso.test', 'webpool-old.contoso.test')).toBe('webpool-retired.contoso.test');
  });

  it('hands out fresh copies (a caller changing the bytes changes nothing for the next one)', () => {
    const c = ctx();
    const a = c.options();
    a.option43.fill(0);
    expect(decodeUcClientOption43(c.options().option43).webServerFqdn).toBe('pool01.contoso.test');
  });
});

describe('lab DHCP answer rules (Lync Registrar responder [S4])', () => {
  it('answers an MS-UC-Client DHCPINFORM with a DHCPACK carrying 43 and 120 and no address', () => {
    const p = answered(informBytes(0x1234abcd));
    expect(p.op).toBe(2);
    expect(p.xid).toBe(0x1234abcd);
    expect(messageType(p)).toBe(MESSAGE_TYPE.DHCPACK);
    expect(p.yiaddr).toBe('0.0.0.0');
    expect(p.ciaddr).toBe('127.0.0.1');
    expect(p.chaddr).toBe(MAC);
    expect([...p.options.get(OPTION.serverId)!]).toEqual([127, 0, 0, 1]);
    expect(Buffer.from(p.options.get(OPTION.vendorSpecific)!)).toEqual(Buffer.from(labDhcpOptions(input).option43));
    expect(Buffer.from(p.options.get(OPTION.sipServers)!)).toEqual(Buffer.from(labDhcpOptions(input).option120));
    // Only what was asked for among 43/120: no lease time, no subnet, no router.
    expect([...p.options.keys()].sort((a, b) => a - b)).toEqual([43, 53, 54, 120]);
  });

  it('gives only the option asked for when option 55 lists just one of 43/120', () => {
    expect([...answered(informBytes(1, 'MS-UC-Client', [120])).options.keys()].sort((a, b) => a - b)).toEqual([53, 54, 120]);
    expect([...answered(informBytes(2, 'MS-UC-Client', [43])).options.keys()].sort((a, b) => a - b)).toEqual([43, 53, 54]);
  });

  it('answers CPE-OCPHONE (either spelling) with sub-option 10 = the VLAN, and nothing when the VLAN is off', () => {
    for (const vc of ['CPE-OCPHONE', 'CPE-OCPhone']) {
      const p = answered(informBytes(3, vc, [43]));
      expect(decodeVlanOption43(p.options.get(OPTION.vendorSpecific)!)).toBe(20);
      expect(p.options.has(OPTION.sipServers)).toBe(false);
    }
    expect(decodeVlanOption43(answered(informBytes(4, 'CPE-OCPHONE', [43]), ctx({ vlanId: 4094 })).options.get(43)!)).toBe(4094);
    expect(answerDhcp(informBytes(5, 'CPE-OCPHONE', [43]), ctx({ vlanId: null }))).toEqual({ kind: 'ignored', reason: 'vlan-off' });
    expect(answerDhcp(informBytes(6, 'CPE-OCPHONE', [120]), ctx())).toEqual({ kind: 'ignored', reason: 'not-asked' });
  });

  it('ignores DISCOVER, REQUEST and the rest: it never hands out addresses', () => {
    for (const t of [MESSAGE_TYPE.DHCPDISCOVER, MESSAGE_TYPE.DHCPREQUEST, MESSAGE_TYPE.DHCPRELEASE, MESSAGE_TYPE.DHCPDECLINE]) {
      expect(answerDhcp(withType(7, t), ctx())).toEqual({ kind: 'ignored', reason: 'not-inform' });
    }
  });

  it('ignores other vendor classes (case-sensitive MS-UC-Client), no class, BOOTREPLYs and informs not asking for 43/120', () => {
    for (const vc of ['ms-uc-client', 'MSFT 5.0', 'PXEClient', 'MS-UC-Client ', '']) {
      expect(answerDhcp(informBytes(8, vc), ctx())).toEqual({ kind: 'ignored', reason: 'vendor-class' });
    }
    const reply = answerDhcp(informBytes(9), ctx());
    if (reply.kind !== 'answer') throw new Error('no answer');
    expect(answerDhcp(reply.reply, ctx())).toEqual({ kind: 'ignored', reason: 'not-a-request' });
    expect(answerDhcp(informBytes(10, 'MS-UC-Client', [1, 3, 6]), ctx())).toEqual({ kind: 'ignored', reason: 'not-asked' });
  });

  it('reports malformed datagrams as typed verdicts, never throwing', () => {
    const good = informBytes(11);
    for (const bad of [new Uint8Array(0), Uint8Array.of(1, 2, 3), good.subarray(0, 239), good.subarray(0, 245)]) {
      const v = answerDhcp(bad, ctx());
      expect(v.kind).toBe('malformed');
      if (v.kind === 'malformed') expect(v.error.code).toBe('DHCP_PACKET_MALFORMED');
    }
  });

  it('reads the options per packet, so a fault switched on acts at once', () => {
    let wrong = false;
    const c = { options: () => labDhcpOptions({ ...input, wrong }), serverId: '127.0.0.1' };
    expect(decodeUcClientOption43(answered(informBytes(12), c).options.get(43)!).webServerFqdn).toBe('pool01.contoso.test');
    wrong = true;
    expect(decodeUcClientOption43(answered(informBytes(13), c).options.get(43)!).webServerFqdn).toBe('webpool-old.contoso.test');
  });
});
