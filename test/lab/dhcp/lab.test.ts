import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeUcClientOption43 } from '../../../common/pool/dhcp-options';
import { OPTION } from '../../../common/pool/dhcp-packet';
import { startLab, type LabHandle } from '../../../lab';
import { downloadChainDocument } from '../../../main/pool/chain';
import { dhcpInform } from '../../../main/pool/discovery/dhcp-inform';
import { discoverPool } from '../../../main/pool/discovery/discover';
import { PoolHttpClient } from '../../../main/pool/net/http';
import { createPoolResolver } from '../../../main/pool/net/resolver';
import { tempDir } from '../support';
import { hostPort, informBytes, MESSAGE_TYPE, rawClient, withType } from './support';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
let dhcp: { host: string; port: number };

beforeAll(async () => {
  tmp = tempDir('tether-dhcp-');
  lab = await startLab({ stateDir: tmp.dir });
  dhcp = hostPort(lab.endpoints.dhcp as string);
});
afterAll(async () => {
  await lab.stop();
  tmp.remove();
});

/** The real probe, on loopback: unicast to the lab's responder from a free (unprivileged) port. */
const probe = (vendorClass?: string) =>
  dhcpInform({ interfaceName: 'lo', server: dhcp.host, serverPort: dhcp.port, noBroadcast: true, clientPort: 0, ...(vendorClass ? { vendorClass } : {}) });

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function adminDhcp(): Promise<{ stats: { received: number; answered: number; malformed: number; ignored: Record<string, number> }; option43: string }> {
  const res = await fetch(`http://127.0.0.1:${lab.httpPort}/lab/dhcp`);
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

describe('lab DHCP responder, asked by the DHCPINFORM probe', () => {
  it("shows in the lab's endpoints as dhcp: 127.0.0.1:PORT", () => {
    expect(lab.endpoints.dhcp).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(dhcp.port).toBeGreaterThan(0);
    expect(lab.context.dhcp).toEqual({ port: 0, vlanId: 20 });
  });

  it('option 43 decodes to the CertProv URL on the lab HTTPS listener and option 120 to the pool FQDN; the bytes are ctx.dhcpOptions()', async () => {
    const r = await probe();
    expect(r.server).toBe('127.0.0.1');
    expect(r.option43?.error).toBeNull();
    expect(r.option43?.decoded).toMatchObject({
      urlScheme: 'https',
      webServerFqdn: 'pool01.contoso.test',
      webServerPort: lab.httpsPort,
      certProvUrl: `${lab.context.httpsBase}/CertProv/CertProvisioningService.svc`,
    });
    expect(r.option120?.names).toEqual(['pool01.contoso.test']);
    const now = lab.context.dhcpOptions();
    expect(r.option43?.hex).toBe(hex(now.option43));
    expect(r.option120?.hex).toBe(hex(now.option120));
    expect(now.certProvUrl).toBe(r.option43?.decoded?.certProvUrl);

    // Discovery takes the Web Services URL from option 43, and the chain download there works.
    const resolver = createPoolResolver({ server: lab.dnsServer });
    const d = await discoverPool({ domain: 'contoso.test', resolver, dhcp: r });
    expect(d.webServices).toEqual({ url: now.certProvUrl, source: 'dhcp-option-43' });
    expect(d.registrar?.host).toBe('pool01.contoso.test');
    const http = new PoolHttpClient({ resolver, retry: { attempts: 1 } });
    try {
      const doc = await downloadChainDocument({ pool: { host: new URL(d.webServices!.url).hostname, port: lab.httpPort }, http });
      expect(doc.certificates.length).toBeGreaterThanOrEqual(2);
    } finally {
      http.close();
    }
  });

  it("under 'option43-wrong' option 43 names webpool-old.<domain>, and the chain download there fails: CHAIN_SERVICE_UNREACHABLE at stage ca-chain", async () => {
    lab.context.faults.set('option43-wrong', true);
    try {
      const r = await probe();
      expect(r.option43?.decoded?.webServerFqdn).toBe('webpool-old.contoso.test');
      expect(r.option43?.hex).toBe(hex(lab.context.dhcpOptions().option43));
      expect(decodeUcClientOption43(lab.context.dhcpOptions().option43).webServerFqdn).toBe('webpool-old.contoso.test');
      expect(r.option120?.names).toEqual(['pool01.contoso.test']); // option 120 is still right

      const resolver = createPoolResolver({ server: lab.dnsServer });
      const d = await discoverPool({ domain: 'contoso.test', resolver, dhcp: r });
      // Stage 5 itself succeeds: the Registrar is found and option 43 is well-formed…
      expect(d.registrar?.host).toBe('pool01.contoso.test');
      expect(d.webServices).toEqual({ url: `https://webpool-old.contoso.test:${lab.httpsPort}/CertProv/CertProvisioningService.svc`, source: 'dhcp-option-43' });
      // …the stale name is unknown to the lab DNS, so connecting to the Web Service fails [S10].
      await expect(resolver.resolve4('webpool-old.contoso.test')).rejects.toBeDefined();
      const http = new PoolHttpClient({ resolver, retry: { attempts: 1 } });
      try {
        const err = await downloadChainDocument({ pool: { host: new URL(d.webServices!.url).hostname, port: lab.httpPort }, http }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({
          code: 'CHAIN_SERVICE_UNREACHABLE',
          stage: 'ca-chain',
          message: expect.stringMatching(/^Unable to locate Lync Certificate Web service at http:\/\/webpool-old\.contoso\.test:/),
          detail: { transport: 'HTTP_DNS_FAILED' },
        });
      } finally {
        http.close();
      }
    } finally {
      lab.context.faults.set('option43-wrong', false);
    }
    expect((await probe()).option43?.decoded?.webServerFqdn).toBe('pool01.contoso.test');
  });

  it('CPE-OCPHONE gets the voice VLAN', async () => {
    const r = await probe('CPE-OCPHONE');
    expect(r.vlan).toMatchObject({ id: 20, error: null, hex: '0a020014' });
    expect(r.option43).toBeNull();
    expect(hex(lab.context.dhcpOptions().vlanOption43!)).toBe('0a020014');
  });

  it('DISCOVER, REQUEST and other vendor classes get no answer; counted; a good inform after them is answered', async () => {
    const before = (await adminDhcp()).stats;
    const client = await rawClient(dhcp);
    try {
      await client.send(withType(101, MESSAGE_TYPE.DHCPDISCOVER));
      await client.send(withType(102, MESSAGE_TYPE.DHCPREQUEST));
      await client.send(informBytes(103, 'MSFT 5.0'));
      await client.send(informBytes(104, 'ms-uc-client'));
      await client.send(Uint8Array.of(0xde, 0xad));
      await client.send(informBytes(105));
      const ack = await client.untilXid(105);
      expect(ack.options.get(OPTION.vendorSpecific)).toBeDefined();
      // In order on one socket pair: 101–104 were handled before 105 and none was answered.
      expect(client.replies.map((p) => p.xid)).toEqual([105]);
      const after = (await adminDhcp()).stats;
      expect(after.received - before.received).toBe(6);
      expect(after.answered - before.answered).toBe(1);
      expect(after.malformed - before.malformed).toBe(1);
      expect(after.ignored['not-inform']! - before.ignored['not-inform']!).toBe(2);
      expect(after.ignored['vendor-class']! - before.ignored['vendor-class']!).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('the admin view shows the current option bytes', async () => {
    expect((await adminDhcp()).option43).toBe(hex(lab.context.dhcpOptions().option43));
  });
});

describe('lab DHCP settings', () => {
  it('refuses a VLAN outside 1–4094 and a bad port before starting anything', async () => {
    await expect(startLab({ stateDir: tmp.dir, dhcpVlan: 4095, services: [] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(startLab({ stateDir: tmp.dir, dhcpPort: 70000, services: [] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
