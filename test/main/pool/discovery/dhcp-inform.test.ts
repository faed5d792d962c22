import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { encodeOption120, encodeUcClientOption43 } from '../../../../common/pool/dhcp-options';
import { decodeDhcpPacket, encodeDhcpPacket, MESSAGE_TYPE, OPTION, type DhcpPacket } from '../../../../common/pool/dhcp-packet';
import { dhcpInform, linuxOperstate, type ProbeClock } from '../../../../main/pool/discovery/dhcp-inform';

/** A clock whose timers fire only when the test says so. */
function manualClock() {
  const timers = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  const clock: ProbeClock = {
    setTimeout: (fn, ms) => {
      timers.set(next, { fn, ms });
      return next++;
    },
    clearTimeout: (h) => void timers.delete(h as number),
  };
  const fire = (ms: number) => {
    for (const [id, t] of [...timers]) {
      if (t.ms === ms) {
        timers.delete(id);
        t.fn();
      }
    }
  };
  return { clock, fire, pending: () => [...timers.values()].map((t) => t.ms) };
}

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A DHCP server stand-in on 127.0.0.1 that answers each request with `reply(request)`. */
async function fakeServer(reply: (req: DhcpPacket, raw: Buffer) => Uint8Array[] | null) {
  const s = createSocket('udp4');
  sockets.push(s);
  const seen: DhcpPacket[] = [];
  s.on('message', (msg, rinfo) => {
    const req = decodeDhcpPacket(msg);
    seen.push(req);
    for (const out of reply(req, msg) ?? []) s.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, seen };
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const option43 = encodeUcClientOption43({ ucIdentifier: 'MS-UC-Client', urlScheme: 'https', webServerFqdn: 'pool01.contoso.test', webServerPort: 443, certProvRelPath: '/CertProv/CertProvisioningService.svc' });

function ack(req: DhcpPacket, extra: [number, Uint8Array][], xid = req.xid, type: number = MESSAGE_TYPE.DHCPACK): Uint8Array {
  return encodeDhcpPacket({
    ...req,
    op: 2,
    xid,
    options: new Map<number, Uint8Array>([[OPTION.messageType, Uint8Array.of(type)], [OPTION.serverId, Uint8Array.of(127, 0, 0, 1)], ...extra]),
  });
}

const base = async (serverPort: number, clock: ProbeClock) => ({
  interfaceName: 'lo',
  server: '127.0.0.1',
  noBroadcast: true,
  serverPort,
  clientPort: await freeUdpPort(),
  clock,
});

describe('DHCPINFORM probe (real UDP sockets on loopback)', () => {
  it('asks as the phone does and decodes options 43 and 120 from the DHCPACK', async () => {
    const { clock } = manualClock();
    const server = await fakeServer((req) => [
      Uint8Array.of(1, 2, 3), // noise first: not DHCP at all (ignored, reported to onIgnored)
      ack(req, [[OPTION.vendorSpecific, option43]], req.xid + 1), // another exchange's answer
      ack(req, [[OPTION.vendorSpecific, option43], [OPTION.sipServers, encodeOption120(['pool01.contoso.test'])], [OPTION.domainName, Buffer.from('contoso.test')]]),
    ]);
    const r = await dhcpInform(await base(server.port, clock));
    const req = server.seen[0]!;
    expect(req.ciaddr).toBe('127.0.0.1');
    expect(Buffer.from(req.options.get(OPTION.vendorClass)!).toString()).toBe('MS-UC-Client');
    expect([...req.options.get(OPTION.parameterList)!]).toEqual(expect.arrayContaining([43, 120]));
    expect([...req.options.get(OPTION.messageType)!]).toEqual([MESSAGE_TYPE.DHCPINFORM]);
    expect(r.server).toBe('127.0.0.1');
    expect(r.option43?.decoded?.certProvUrl).toBe('https://pool01.contoso.test:443/CertProv/CertProvisioningService.svc');
    expect(r.option120?.names).toEqual(['pool01.contoso.test']);
    expect(r.domainName).toBe('contoso.test');
    expect(r.attempts).toBe(1);
  });

  it('keeps a broken option as its typed error without hiding the good one', async () => {
    const { clock } = manualClock();
    const server = await fakeServer((req) => [ack(req, [[OPTION.vendorSpecific, Uint8Array.of(3, 40, 0x61)], [OPTION.sipServers, Uint8Array.of(1, 10, 0, 0, 1)]])]);
    const r = await dhcpInform(await base(server.port, clock));
    expect(r.option43?.error?.code).toBe('DHCP_OPTION43_MALFORMED');
    expect(r.option120?.error?.code).toBe('DHCP_OPTION120_ADDRESS');
    expect(r.option43?.hex).toBe('032861');
  });

  it('resends on its retry timer and gives DHCP_NO_ANSWER at the deadline', async () => {
    const m = manualClock();
    const server = await fakeServer(() => null);
    const pending = dhcpInform({ ...(await base(server.port, m.clock)), timeoutMs: 4000, retryMs: 1000 });
    await waitFor(() => server.seen.length === 1);
    m.fire(1000);
    await waitFor(() => server.seen.length === 2);
    m.fire(4000);
    await expect(pending).rejects.toMatchObject({ code: 'DHCP_NO_ANSWER', stage: 'ip', detail: { attempts: 2 } });
    expect(m.pending()).toEqual([]); // nothing left scheduled
  });

  it('reports a malformed answer when that is all that came', async () => {
    const m = manualClock();
    const server = await fakeServer((_req, raw) => [Uint8Array.from(raw.subarray(0, 250))]);
    const ignored: string[] = [];
    const pending = dhcpInform({ ...(await base(server.port, m.clock)), onIgnored: (e) => ignored.push(e.code) });
    await waitFor(() => ignored.length === 1);
    m.fire(4000);
    await expect(pending).rejects.toMatchObject({ code: 'DHCP_PACKET_MALFORMED' });
  });

  it('a DHCPNAK is not taken for an answer', async () => {
    const m = manualClock();
    const server = await fakeServer((req) => [ack(req, [], req.xid, MESSAGE_TYPE.DHCPNAK)]);
    const ignored: string[] = [];
    const pending = dhcpInform({ ...(await base(server.port, m.clock)), onIgnored: (e) => ignored.push(e.code) });
    await waitFor(() => ignored.length === 1);
    m.fire(4000);
    await expect(pending).rejects.toMatchObject({ code: 'DHCP_PACKET_MALFORMED', message: expect.stringMatching(/type 6 instead of DHCPACK/) });
  });

  it('refuses an unknown interface, one without IPv4, and a taken port', async () => {
    await expect(dhcpInform({ interfaceName: 'nosuch0' })).rejects.toMatchObject({ code: 'DHCP_INTERFACE_UNUSABLE' });
    await expect(
      dhcpInform({ interfaceName: 'v6only', interfaces: () => ({ v6only: [{ address: '::1', netmask: '', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: null, scopeid: 0 }] }) }),
    ).rejects.toMatchObject({ code: 'DHCP_INTERFACE_UNUSABLE', message: expect.stringMatching(/no IPv4/) });
    // Up but not running (no carrier yet): Node leaves it out of the list; the kernel still knows it.
    await expect(dhcpInform({ interfaceName: 'eth9', interfaces: () => ({}), linkState: (n) => (n === 'eth9' ? 'down' : null) })).rejects.toMatchObject({
      code: 'DHCP_INTERFACE_UNUSABLE',
      message: expect.stringMatching(/exists but has no usable link \(link state: down\)/),
      detail: { interface: 'eth9', linkState: 'down' },
    });
    await expect(dhcpInform({ interfaceName: 'eth9', interfaces: () => ({}), linkState: () => null })).rejects.toMatchObject({ message: expect.stringMatching(/There is no network interface/) });
    const holder = createSocket('udp4');
    sockets.push(holder);
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', r));
    await expect(dhcpInform({ interfaceName: 'lo', clientPort: holder.address().port, server: '127.0.0.1', noBroadcast: true })).rejects.toMatchObject({
      code: 'DHCP_INTERFACE_UNUSABLE',
    });
  });
});

describe('linuxOperstate', () => {
  it('reads only plain interface names (no path tricks) and is null for unknown ones', () => {
    for (const hostile of ['..', '.', '../../etc/passwd', 'lo/../lo', 'a'.repeat(16), '', 'eth 0']) expect(linuxOperstate(hostile)).toBeNull();
    expect(linuxOperstate('nosuch0')).toBeNull();
    // The loopback has no carrier concept: Linux says 'unknown'; other systems have no sysfs.
    expect(linuxOperstate('lo')).toBe(process.platform === 'linux' ? 'unknown' : null);
  });
});

/** Waits for socket I/O (not for time): yields to the event loop until `cond` holds. */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error('condition not reached');
}
