import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TetherError } from '../../../common/errors';
import { buildInform, decodeDhcpPacket, encodeDhcpPacket, MESSAGE_TYPE, messageType, OPTION } from '../../../common/pool/dhcp-packet';
import { failure } from '../../support/failure';

const inform = buildInform({ xid: 0xdeadbeef, clientIp: '10.9.0.2', mac: '02:00:00:00:00:01', vendorClass: 'MS-UC-Client', parameters: [43, 120] });

const codeOf = (fn: () => unknown): string => failure(fn).code;

describe('DHCP packet codec', () => {
  it('encodes a DHCPINFORM as RFC 2131 lays it out', () => {
    const bytes = encodeDhcpPacket(inform);
    expect(bytes.length).toBe(300);
    expect([...bytes.subarray(0, 4)]).toEqual([1, 1, 6, 0]);
    expect([...bytes.subarray(12, 16)]).toEqual([10, 9, 0, 2]);
    expect([...bytes.subarray(236, 240)]).toEqual([99, 130, 83, 99]);
    const back = decodeDhcpPacket(bytes);
    expect(back.xid).toBe(0xdeadbeef);
    expect(back.chaddr).toBe('02:00:00:00:00:01');
    expect(messageType(back)).toBe(MESSAGE_TYPE.DHCPINFORM);
    expect(Buffer.from(back.options.get(OPTION.vendorClass)!).toString()).toBe('MS-UC-Client');
    expect([...back.options.get(OPTION.parameterList)!]).toEqual([43, 120]);
  });

  it('joins repeated options (RFC 3396) and reads overloaded file/sname fields', () => {
    const big = new Uint8Array(600).map((_, i) => i & 0xff);
    const withBig = { ...inform, options: new Map([...inform.options, [OPTION.vendorSpecific, big]]) };
    expect([...decodeDhcpPacket(encodeDhcpPacket(withBig)).options.get(OPTION.vendorSpecific)!]).toEqual([...big]);
    const bytes = encodeDhcpPacket({ ...inform, options: new Map([[OPTION.overload, Uint8Array.of(3)], [OPTION.messageType, Uint8Array.of(5)]]) });
    bytes.set([120, 3, 0, 1, 0x61, 255], 108); // file field
    bytes.set([15, 3, 0x61, 0x62, 0x63, 255], 44); // sname field
    const p = decodeDhcpPacket(bytes);
    expect([...p.options.get(120)!]).toEqual([0, 1, 0x61]);
    expect(Buffer.from(p.options.get(15)!).toString()).toBe('abc');
  });

  it('refuses malformed packets with DHCP_PACKET_MALFORMED', () => {
    const good = encodeDhcpPacket(inform);
    expect(codeOf(() => decodeDhcpPacket(good.slice(0, 239)))).toBe('DHCP_PACKET_MALFORMED');
    const noCookie = good.slice();
    noCookie[236] = 0;
    expect(codeOf(() => decodeDhcpPacket(noCookie))).toBe('DHCP_PACKET_MALFORMED');
    const badOp = good.slice();
    badOp[0] = 7;
    expect(codeOf(() => decodeDhcpPacket(badOp))).toBe('DHCP_PACKET_MALFORMED');
    const badHw = good.slice();
    badHw[2] = 16;
    expect(codeOf(() => decodeDhcpPacket(badHw))).toBe('DHCP_PACKET_MALFORMED');
    // Truncated inside the options: every cut before the end option fails.
    const end = good.lastIndexOf(255);
    for (let cut = 241; cut <= end; cut++) expect(codeOf(() => decodeDhcpPacket(good.slice(0, cut)))).toBe('DHCP_PACKET_MALFORMED');
    const badOverload = encodeDhcpPacket({ ...inform, options: new Map([[OPTION.overload, Uint8Array.of(9)]]) });
    expect(codeOf(() => decodeDhcpPacket(badOverload))).toBe('DHCP_PACKET_MALFORMED');
  });

  it('property: arbitrary bytes after a valid header give a packet or a typed error', () => {
    const head = encodeDhcpPacket(inform).slice(0, 240);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (tail) => {
        const bytes = Uint8Array.from([...head, ...tail]);
        try {
          decodeDhcpPacket(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(TetherError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
