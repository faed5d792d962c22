import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerQuery } from '../../../lab/dns/server';
import { LabZone } from '../../../lab/dns/zone';

const zone = new LabZone({ domain: 'contoso.test', poolFqdn: 'pool01.contoso.test', address: '127.0.0.1', has: () => false });

describe('lab DNS answers hostile input', () => {
  it('never throws on random bytes; any reply is a decodable response with the same id', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.constantFrom('udp' as const, 'tcp' as const), (bytes, transport) => {
        const msg = Buffer.from(bytes);
        const out = answerQuery(zone, msg, transport);
        if (out === null) return;
        const reply = dnsPacket.decode(out);
        expect(reply.type).toBe('response');
        expect(reply.id).toBe(msg.readUInt16BE(0));
        if (transport === 'udp') expect(out.length).toBeLessThanOrEqual(4096);
      }),
      { numRuns: 3000 },
    );
  });

  it('survives mutated and truncated real queries', () => {
    const base = dnsPacket.encode({
      id: 77,
      type: 'query',
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name: '_sipinternaltls._tcp.contoso.test', type: 'SRV', class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0 } as unknown as dnsPacket.Answer],
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(base.length),
        (edits, cut) => {
          const msg = Buffer.from(base.subarray(0, Math.max(cut, 2)));
          for (const [at, value] of edits) if (at < msg.length) msg[at] = value;
          const out = answerQuery(zone, msg, 'udp');
          if (out !== null) expect(dnsPacket.decode(out).id).toBe(msg.readUInt16BE(0));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('answers every well-formed question about lab names with the right rcode', () => {
    const names = ['pool01.contoso.test', 'x.contoso.test', '_sip._tls.contoso.test', 'contoso.test', 'example.org', '_tcp.contoso.test'];
    const types: dnsPacket.RecordType[] = ['A', 'AAAA', 'SRV', 'TXT', 'SOA', 'NS', 'MX', 'CNAME'];
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.constantFrom(...types), fc.integer({ min: 0, max: 65535 }), (name, type, id) => {
        const out = answerQuery(zone, dnsPacket.encode({ id, type: 'query', questions: [{ name, type, class: 'IN' }] }), 'udp')!;
        const reply = dnsPacket.decode(out) as dnsPacket.DecodedPacket & { rcode: string };
        const expected = name === 'example.org' ? 'REFUSED' : name === 'x.contoso.test' ? 'NXDOMAIN' : 'NOERROR';
        expect(reply.rcode).toBe(expected);
        expect(reply.id).toBe(id);
        for (const a of reply.answers ?? []) expect(a.name.toLowerCase()).toBe(name);
      }),
      { numRuns: 500 },
    );
  });
});
