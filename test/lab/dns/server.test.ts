import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { tempDir } from '../support';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
let resolver: Resolver;
/** dns-packet decodes the rcode too; its typings leave it out. */
type Decoded = dnsPacket.DecodedPacket & { rcode: string };

beforeAll(async () => {
  tmp = tempDir();
  lab = await startLab({ stateDir: tmp.dir, services: [] });
  resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([lab.dnsServer]);
});
afterAll(async () => {
  await lab?.stop();
  tmp.remove();
});

/** An SRV answer's four RFC 2782 fields (Node 24 also adds `type: 'SRV'`, Node 20 does not). */
const srv = async (name: string) =>
  (await resolver.resolveSrv(name)).map(({ name: target, port, priority, weight }) => ({ name: target, port, priority, weight }));

const errorCode = (p: Promise<unknown>) => p.then(() => 'resolved', (e: NodeJS.ErrnoException) => e.code);

function udpQuery(packet: dnsPacket.Packet): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no answer'));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(dnsPacket.decode(m) as Decoded);
    });
    s.send(dnsPacket.encode(packet), lab.dnsPort, '127.0.0.1');
  });
}

function rawUdp(bytes: Buffer, waitMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(null);
    }, waitMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(bytes, lab.dnsPort, '127.0.0.1');
  });
}

const q = (id: number, name: string, type: dnsPacket.RecordType): dnsPacket.Packet => ({
  id,
  type: 'query',
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ name, type, class: 'IN' }],
});

describe('lab DNS server', () => {
  it("answers the pool's SRV records to Node's resolver", async () => {
    const target = { name: 'pool01.contoso.test', priority: 0, weight: 0 };
    expect(await srv('_sipinternaltls._tcp.contoso.test')).toEqual([{ ...target, port: 5061 }]);
    expect(await srv('_sipinternal._tcp.contoso.test')).toEqual([{ ...target, port: 5060 }]);
    expect(await srv('_sip._tls.contoso.test')).toEqual([{ ...target, port: 5061 }]);
    expect(await srv('_sip._tcp.CONTOSO.test')).toEqual([{ ...target, port: 5060 }]);
  });

  it('answers A records for the pool names, NXDOMAIN, NODATA and REFUSED', async () => {
    for (const name of ['pool01', 'ucupdates-r2', 'sipinternal', 'sip', 'sipexternal', 'lyncdiscover', 'lyncdiscoverinternal']) {
      expect(await resolver.resolve4(`${name}.contoso.test`), name).toEqual(['127.0.0.1']);
    }
    expect(await errorCode(resolver.resolve4('nothere.contoso.test'))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolve6('pool01.contoso.test'))).toBe('ENODATA');
    // An empty non-terminal exists (NODATA), it is not NXDOMAIN.
    expect(await errorCode(resolver.resolveSrv('_tcp.contoso.test'))).toBe('ENODATA');
    expect(await errorCode(resolver.resolve4('www.example.org'))).toBe('EREFUSED');
    const soa = await resolver.resolveSoa('contoso.test');
    expect(soa.nsname).toBe('ns1.contoso.test');
  });

  it('sets AA, echoes id and question case, and puts SOA in the authority of a negative answer', async () => {
    const pos = await udpQuery(q(4242, 'POOL01.Contoso.Test', 'A'));
    expect(pos.id).toBe(4242);
    expect(pos.flag_aa).toBe(true);
    expect(pos.flag_rd).toBe(true);
    expect(pos.questions![0]!.name).toBe('POOL01.Contoso.Test');
    expect(pos.answers![0]).toMatchObject({ type: 'A', data: '127.0.0.1' });
    const neg = await udpQuery(q(7, 'missing.contoso.test', 'A'));
    expect(neg.rcode).toBe('NXDOMAIN');
    expect(neg.authorities![0]).toMatchObject({ type: 'SOA', name: 'contoso.test' });
    const srv = await udpQuery(q(8, '_sipinternaltls._tcp.contoso.test', 'SRV'));
    expect(srv.additionals).toContainEqual(expect.objectContaining({ name: 'pool01.contoso.test', type: 'A', data: '127.0.0.1' }));
  });

  it("drops only the internal SRV records under 'srv-missing'", async () => {
    lab.context.faults.set('srv-missing', true);
    try {
      expect(await errorCode(resolver.resolveSrv('_sipinternaltls._tcp.contoso.test'))).toBe('ENOTFOUND');
      expect(await errorCode(resolver.resolveSrv('_sipinternal._tcp.contoso.test'))).toBe('ENOTFOUND');
      expect(await resolver.resolveSrv('_sip._tls.contoso.test')).toHaveLength(1);
      expect(await resolver.resolve4('ucupdates-r2.contoso.test')).toEqual(['127.0.0.1']);
    } finally {
      lab.context.faults.set('srv-missing', false);
    }
    expect(await resolver.resolveSrv('_sipinternaltls._tcp.contoso.test')).toHaveLength(1);
  });

  it('lets a service point the SIP SRV records at its port and add records', async () => {
    const { dns } = lab.context;
    dns.setSipPort('tls', 15061);
    expect(await srv('_sipinternaltls._tcp.contoso.test')).toEqual([
      { name: 'pool01.contoso.test', port: 15061, priority: 0, weight: 0 },
    ]);
    expect(await srv('_sip._tls.contoso.test')).toEqual([{ name: 'pool01.contoso.test', port: 15061, priority: 0, weight: 0 }]);
    dns.setSipPort('tls', 5061);
    dns.add({ name: 'webext.contoso.test', type: 'A', address: '127.0.0.2' });
    dns.add({ name: 'webext.contoso.test', type: 'TXT', text: 'hello' });
    expect(await resolver.resolve4('webext.contoso.test')).toEqual(['127.0.0.2']);
    expect(await resolver.resolveTxt('webext.contoso.test')).toEqual([['hello']]);
    dns.remove('webext.contoso.test');
    expect(await errorCode(resolver.resolve4('webext.contoso.test'))).toBe('ENOTFOUND');
    expect(() => dns.add({ name: 'bad..name', type: 'A', address: '127.0.0.1' })).toThrow(RangeError);
    expect(() => dns.add({ name: 'x.contoso.test', type: 'A', address: '::1' })).toThrow(RangeError);
  });

  it('truncates a large UDP answer and serves it whole over TCP (Node retries there)', async () => {
    const name = 'many.contoso.test';
    for (let i = 1; i <= 60; i++) lab.context.dns.add({ name, type: 'A', address: `127.0.1.${i}` });
    const udp = await udpQuery(q(9, name, 'A'));
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers).toHaveLength(0);
    const all = await resolver.resolve4(name);
    expect(all).toHaveLength(60);
    // A dig-style query with EDNS (1232-byte buffer and a cookie option) gets a mid-size answer over
    // UDP that would not fit in 512 bytes (dns-packet does not compress names: 30 records ≈ 1 KB).
    const mid = 'some.contoso.test';
    for (let i = 1; i <= 30; i++) lab.context.dns.add({ name: mid, type: 'A', address: `127.0.2.${i}` });
    const opt = { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [{ code: 10, data: Buffer.alloc(8, 7) }] };
    expect((await udpQuery(q(10, mid, 'A'))).flag_tc).toBe(true);
    const edns = await udpQuery({ ...q(11, mid, 'A'), additionals: [opt] as unknown as dnsPacket.Answer[] });
    expect(edns.flag_tc).toBe(false);
    expect(edns.answers).toHaveLength(30);
    expect(edns.additionals).toContainEqual(expect.objectContaining({ type: 'OPT' }));
    lab.context.dns.remove(mid);
    lab.context.dns.remove(name);
  });

  it('answers several length-prefixed queries on one TCP connection', async () => {
    const socket = connect(lab.dnsPort, '127.0.0.1');
    const both = Buffer.concat([dnsPacket.streamEncode(q(1, 'pool01.contoso.test', 'A')), dnsPacket.streamEncode(q(2, 'nope.contoso.test', 'A'))]);
    // Split the two messages at an odd point to exercise reassembly.
    socket.write(both.subarray(0, 7));
    setImmediate(() => socket.write(both.subarray(7)));
    const answers = await new Promise<Decoded[]>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const out: Decoded[] = [];
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          out.push(dnsPacket.streamDecode(buf) as unknown as Decoded);
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (out.length === 2) resolve(out);
      });
      socket.on('error', reject);
    });
    socket.destroy();
    expect(answers.map((a) => [a.id, a.rcode])).toEqual([
      [1, 'NOERROR'],
      [2, 'NXDOMAIN'],
    ]);
  });

  it('answers garbage with FORMERR, other opcodes with NOTIMP, and ignores responses and runts', async () => {
    const garbage = Buffer.from('1234ffffffffffffffffffffffffffff', 'hex');
    garbage[2] = 0x01; // a query (QR clear) whose counts promise more than is there
    const formerr = await rawUdp(garbage, 1000);
    expect(formerr).not.toBeNull();
    expect(dnsPacket.decode(formerr!)).toMatchObject({ id: 0x1234, rcode: 'FORMERR' });
    const notify = dnsPacket.encode(q(5, 'contoso.test', 'SOA'));
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2); // opcode NOTIFY
    expect(dnsPacket.decode((await rawUdp(notify, 1000))!)).toMatchObject({ id: 5, rcode: 'NOTIMP' });
    expect(await rawUdp(Buffer.from([1]), 150)).toBeNull();
    const response = dnsPacket.encode({ ...q(6, 'contoso.test', 'A'), type: 'response' });
    expect(await rawUdp(response, 150)).toBeNull();
    // Still serving.
    expect(await resolver.resolve4('pool01.contoso.test')).toEqual(['127.0.0.1']);
  });
});
