import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UC_VENDOR_CLASS, VLAN_VENDOR_CLASS } from '../../../common/pool/dhcp-options';
import { decodeDhcpPacket, encodeDhcpPacket, MESSAGE_TYPE, messageType, OPTION } from '../../../common/pool/dhcp-packet';
import { answerDhcp } from '../../../lab/dhcp/answer';
import { labDhcpOptions } from '../../../lab/dhcp/options';
import { startDhcpResponder, type DhcpResponder } from '../../../lab/dhcp/responder';
import { informBytes, rawClient } from './support';

const options = () =>
  labDhcpOptions({ domain: 'contoso.test', poolFqdn: 'pool01.contoso.test', httpsBase: 'https://pool01.contoso.test:18443', vlanId: 20, wrong: false });
const ctx = { options, serverId: '127.0.0.1' };
const BASE = informBytes(0x5eed0001);
/** Where the options field starts (236 fixed bytes + the 4-byte magic cookie). */
const OPTIONS_AT = 240;

/** Hostile datagrams: random bytes, and valid informs flipped, cut, extended or given random options. */
const mutated: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.array(fc.tuple(fc.nat({ max: BASE.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((edits) => {
    const b = Uint8Array.from(BASE);
    for (const [at, v] of edits) b[at] = v;
    return b;
  }),
  fc.nat({ max: BASE.length }).map((n) => BASE.slice(0, n)),
  fc.uint8Array({ maxLength: 300 }).map((tail) => Uint8Array.from([...BASE.subarray(0, OPTIONS_AT), ...tail])),
  fc.tuple(fc.nat({ max: 60 }), fc.uint8Array({ minLength: 1, maxLength: 40 })).map(([skip, junk]) => {
    const b = Uint8Array.from(BASE);
    b.set(junk.subarray(0, b.length - OPTIONS_AT - skip), OPTIONS_AT + skip);
    return b;
  }),
);

const vendorClasses = fc.constantFrom(UC_VENDOR_CLASS, VLAN_VENDOR_CLASS, 'CPE-OCPhone', 'ms-uc-client', 'MSFT 5.0', 'PXEClient', '');
/** Well-formed packets with random type, class and option 55: these reach every rule. */
const shaped = fc
  .record({
    op: fc.constantFrom(1 as const, 2 as const),
    xid: fc.nat(),
    type: fc.integer({ min: 0, max: 20 }),
    vc: fc.option(vendorClasses, { nil: undefined }),
    asked: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: undefined }),
    // Option 52 (overload) would turn the file/sname fields into options: left to the mutation fuzz.
    extra: fc.array(fc.tuple(fc.integer({ min: 1, max: 254 }).filter((c) => c !== OPTION.overload), fc.uint8Array({ maxLength: 20 })), { maxLength: 4 }),
  })
  .map((r) => {
    const o = new Map<number, Uint8Array>();
    for (const [code, value] of r.extra) o.set(code, value);
    o.set(OPTION.messageType, Uint8Array.of(r.type));
    if (r.vc !== undefined) o.set(OPTION.vendorClass, Buffer.from(r.vc, 'latin1'));
    else o.delete(OPTION.vendorClass);
    if (r.asked !== undefined) o.set(OPTION.parameterList, r.asked);
    else o.delete(OPTION.parameterList);
    const bytes = encodeDhcpPacket({ op: r.op, xid: r.xid, secs: 0, flags: 0, ciaddr: '127.0.0.1', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: '02:00:00:00:00:09', options: o });
    return { bytes, packet: decodeDhcpPacket(bytes) };
  });

describe('lab DHCP responder under hostile input', () => {
  it('answerDhcp never throws on 20 000 random/mutated datagrams, and every answer is a proper DHCPACK', () => {
    let answers = 0;
    fc.assert(
      fc.property(mutated, (bytes) => {
        const v = answerDhcp(bytes, ctx);
        if (v.kind === 'malformed') expect(v.error.code).toBe('DHCP_PACKET_MALFORMED');
        if (v.kind !== 'answer') return;
        answers++;
        const p = decodeDhcpPacket(v.reply);
        expect(p.op).toBe(2);
        expect(p.xid).toBe(v.request.xid);
        expect(p.yiaddr).toBe('0.0.0.0');
        expect(messageType(p)).toBe(MESSAGE_TYPE.DHCPACK);
        expect([...p.options.keys()].every((k) => [43, 53, 54, 120].includes(k))).toBe(true);
      }),
      { numRuns: 20_000, seed: 4343 },
    );
    expect(answers).toBeGreaterThan(0); // the mutations do not all miss the answering path
  });

  it('answers exactly the MS-UC-Client informs asking 43/120 and the CPE-OCPHONE informs asking 43 (10 000 shaped packets)', () => {
    fc.assert(
      fc.property(shaped, ({ bytes, packet }) => {
        const asked = new Set(packet.options.get(OPTION.parameterList) ?? []);
        const vc = Buffer.from(packet.options.get(OPTION.vendorClass) ?? []).toString('latin1');
        const inform = packet.op === 1 && messageType(packet) === MESSAGE_TYPE.DHCPINFORM;
        const expected =
          inform && ((vc === UC_VENDOR_CLASS && (asked.has(43) || asked.has(120))) || (vc.toUpperCase() === VLAN_VENDOR_CLASS && asked.has(43)));
        expect(answerDhcp(bytes, ctx).kind).toBe(expected ? 'answer' : 'ignored');
      }),
      { numRuns: 10_000, seed: 120 },
    );
  });
});

describe('lab DHCP responder socket under a stream of hostile datagrams', () => {
  let responder: DhcpResponder;
  const logs: string[] = [];
  beforeAll(async () => {
    responder = await startDhcpResponder({ host: '127.0.0.1', port: 0, options, log: (m) => logs.push(m) });
  });
  afterAll(() => responder.close());

  it('takes 2 000 random/mutated datagrams without a crash, counts them, and keeps answering a good inform', async () => {
    const TOTAL = 2000;
    // Small batches, each closed by a good inform whose answer proves the batch was read: the
    // socket's receive buffer never overflows, so every datagram is counted (no loss, no sleep).
    const BATCH = 25;
    const packets = fc.sample(mutated, { numRuns: TOTAL, seed: 6767 });
    const client = await rawClient(responder);
    try {
      for (let i = 0; i < TOTAL; i += BATCH) {
        for (const p of packets.slice(i, i + BATCH)) await client.send(p);
        const xid = 0xc0000000 + i;
        await client.send(informBytes(xid));
        const ack = await client.untilXid(xid);
        expect(ack.options.has(OPTION.vendorSpecific)).toBe(true);
      }
      const s = responder.stats();
      const sentinels = TOTAL / BATCH;
      expect(s.received).toBe(TOTAL + sentinels);
      const ignored = Object.values(s.ignored).reduce((a, b) => a + b, 0);
      expect(s.answered + s.malformed + ignored).toBe(s.received);
      expect(s.malformed).toBeGreaterThan(TOTAL / 4);
      expect(s.answered).toBeGreaterThan(sentinels);
      expect(s.sendErrors).toBe(0);
      expect(client.undecodable).toEqual([]); // whatever it sent back was a readable packet
      expect(logs.some((l) => l.includes('dropped a malformed datagram'))).toBe(true);
    } finally {
      await client.close();
    }
  });
});
