import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TetherError } from '../../../common/errors';
import {
  decodeOption120,
  decodeUcClientOption43,
  decodeVlanOption43,
  encodeOption120,
  encodeSubOptions,
  encodeUcClientOption43,
  encodeVlanOption43,
  OPTION120_ADDRESS_MESSAGE,
  ucClientOption43FromUrl,
} from '../../../common/pool/dhcp-options';
import { failure } from '../../support/failure';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));

const code = (fn: () => unknown): string => failure(fn).code;

const sample = {
  ucIdentifier: 'MS-UC-Client',
  urlScheme: 'https' as const,
  webServerFqdn: 'pool01.contoso.com',
  webServerPort: 443,
  certProvRelPath: '/CertProv/CertProvisioningService.svc',
};

describe('option 43 for MS-UC-Client', () => {
  it('decodes the documented layout into the CertProv URL', () => {
    // Byte for byte as DHCPUtil writes it: UCIdentifier 4D532D55432D436C69656E74 ... [S2][S3]
    const bytes = hex(
      '010c' + '4d532d55432d436c69656e74' + '0205' + '6874747073' + '0312' + Buffer.from('pool01.contoso.com').toString('hex') +
        '0403' + '343433' + '0525' + Buffer.from('/CertProv/CertProvisioningService.svc').toString('hex'),
    );
    const d = decodeUcClientOption43(bytes);
    expect(d.certProvUrl).toBe('https://pool01.contoso.com:443/CertProv/CertProvisioningService.svc');
    expect(encodeUcClientOption43(sample)).toEqual(bytes);
  });

  it('round-trips from a URL', () => {
    const v = ucClientOption43FromUrl('https://web.contoso.test:18443/CertProv/CertProvisioningService.svc');
    expect(decodeUcClientOption43(encodeUcClientOption43(v)).certProvUrl).toBe('https://web.contoso.test:18443/CertProv/CertProvisioningService.svc');
  });

  it('skips pads, stops at end, ignores unknown sub-options', () => {
    const body = encodeUcClientOption43(sample);
    const bytes = Uint8Array.from([0, 0, 9, 1, 0x41, ...body, 255, 7, 7]);
    expect(decodeUcClientOption43(bytes).webServerFqdn).toBe('pool01.contoso.com');
  });

  it('refuses every malformed case with a typed error', () => {
    const good = encodeUcClientOption43(sample);
    for (let cut = 1; cut < good.length; cut++) {
      // Any truncation either cuts a TLV short or loses a required sub-option.
      expect(['DHCP_OPTION43_MALFORMED', 'DHCP_OPTION43_INCOMPLETE']).toContain(code(() => decodeUcClientOption43(good.slice(0, cut))));
    }
    const sub = (c: number, v: string) => ({ code: c, value: ascii(v) });
    const base = [sub(1, 'MS-UC-Client'), sub(2, 'https'), sub(3, 'pool01.contoso.com'), sub(4, '443'), sub(5, '/CertProv/x.svc')];
    const withSub = (c: number, v: string | Uint8Array) =>
      encodeSubOptions(base.map((s) => (s.code === c ? { code: c, value: typeof v === 'string' ? ascii(v) : v } : s)));
    expect(code(() => decodeUcClientOption43(withSub(1, 'ms-uc-client')))).toBe('DHCP_OPTION43_MALFORMED'); // case-sensitive
    expect(code(() => decodeUcClientOption43(withSub(2, 'ftp')))).toBe('DHCP_OPTION43_MALFORMED');
    expect(code(() => decodeUcClientOption43(withSub(3, 'pool01')))).toBe('DHCP_OPTION43_MALFORMED');
    expect(code(() => decodeUcClientOption43(withSub(3, '10.0.0.1')))).toBe('DHCP_OPTION43_MALFORMED');
    expect(code(() => decodeUcClientOption43(withSub(3, 'bad_host.contoso.com')))).toBe('DHCP_OPTION43_MALFORMED');
    expect(code(() => decodeUcClientOption43(withSub(4, '0')))).toBe('DHCP_OPTION43_MALFORMED');
    expect(code(() => decodeUcClientOption43(withSub(4, '70000')))).toBe('DHCP_OPTION43_MALFORMED');
    expect(code(() => decodeUcClientOption43(withSub(4, Uint8Array.of(0x01, 0xbb))))).toBe('DHCP_OPTION43_MALFORMED'); // binary port
    expect(code(() => decodeUcClientOption43(withSub(5, 'CertProv/x.svc')))).toBe('DHCP_OPTION43_MALFORMED');
    expect(code(() => decodeUcClientOption43(withSub(3, 'pool01.contoso.com\0')))).toBe('DHCP_OPTION43_MALFORMED'); // trailing NUL
    expect(code(() => decodeUcClientOption43(encodeSubOptions([...base, sub(3, 'x.contoso.com')])))).toBe('DHCP_OPTION43_MALFORMED');
    expect(code(() => decodeUcClientOption43(encodeSubOptions(base.filter((s) => s.code !== 3))))).toBe('DHCP_OPTION43_INCOMPLETE');
    expect(code(() => decodeUcClientOption43(new Uint8Array()))).toBe('DHCP_OPTION43_INCOMPLETE');
    expect(code(() => decodeUcClientOption43(Uint8Array.of(3)))).toBe('DHCP_OPTION43_MALFORMED'); // length byte missing
    expect(code(() => decodeUcClientOption43(Uint8Array.of(3, 9, 0x61)))).toBe('DHCP_OPTION43_MALFORMED'); // overlong length
  });

  it('property: encode then decode is the identity, and no input throws anything but a typed error', () => {
    const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
    const fqdn = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.stringMatching(/^[a-z]{2,6}$/)).map(([ls, tld]) => [...ls, tld].join('.'));
    fc.assert(
      fc.property(fc.constantFrom('http' as const, 'https' as const), fqdn, fc.integer({ min: 1, max: 65535 }), fc.stringMatching(/^\/[A-Za-z0-9/._-]{0,40}$/), (s, f, p, path) => {
        const v = { ucIdentifier: 'MS-UC-Client', urlScheme: s, webServerFqdn: f, webServerPort: p, certProvRelPath: path };
        const d = decodeUcClientOption43(encodeUcClientOption43(v));
        expect(d).toMatchObject(v);
        expect(d.certProvUrl).toBe(`${s}://${f}:${p}${path}`);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeUcClientOption43(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(TetherError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('option 43 for CPE-OCPHONE (VLAN)', () => {
  it('round-trips every VLAN ID', () => {
    for (let id = 1; id <= 4094; id++) expect(decodeVlanOption43(encodeVlanOption43(id))).toBe(id);
  });
  it('reads a DWORD value as a Windows server sends it', () => {
    expect(decodeVlanOption43(Uint8Array.of(10, 4, 0, 0, 0, 200))).toBe(200);
  });
  it('refuses malformed and out-of-range values', () => {
    expect(code(() => decodeVlanOption43(Uint8Array.of(10, 2, 0, 0)))).toBe('DHCP_VLAN_OUT_OF_RANGE');
    expect(code(() => decodeVlanOption43(Uint8Array.of(10, 2, 0x0f, 0xff)))).toBe('DHCP_VLAN_OUT_OF_RANGE');
    expect(code(() => decodeVlanOption43(Uint8Array.of(10, 3, 0, 0, 5)))).toBe('DHCP_VLAN_MALFORMED');
    expect(code(() => decodeVlanOption43(Uint8Array.of(10, 2, 0)))).toBe('DHCP_VLAN_MALFORMED');
    expect(code(() => decodeVlanOption43(Uint8Array.of(11, 2, 0, 5)))).toBe('DHCP_VLAN_MALFORMED');
    expect(code(() => decodeVlanOption43(Uint8Array.of(10, 2, 0, 5, 10, 2, 0, 6)))).toBe('DHCP_VLAN_MALFORMED');
    expect(() => encodeVlanOption43(4095)).toThrow(RangeError);
  });
});

describe('option 120 (RFC 3361)', () => {
  it('decodes encoding 0 with one or several names', () => {
    const one = Uint8Array.from([0, 6, ...ascii('pool01'), 7, ...ascii('contoso'), 3, ...ascii('com'), 0]);
    expect(decodeOption120(one)).toEqual(['pool01.contoso.com']);
    expect(encodeOption120(['pool01.contoso.com'])).toEqual(one);
    expect(decodeOption120(encodeOption120(['a.contoso.test', 'dir01.contoso.test.']))).toEqual(['a.contoso.test', 'dir01.contoso.test']);
  });
  it('refuses IP addresses (encoding 1) with the plain Lync message', () => {
    const e = (() => {
      try {
        decodeOption120(Uint8Array.of(1, 10, 0, 0, 5));
      } catch (err) {
        return err as TetherError;
      }
    })();
    expect(e?.code).toBe('DHCP_OPTION120_ADDRESS');
    expect(e?.message).toBe(OPTION120_ADDRESS_MESSAGE);
    expect(e?.message).toMatch(/must be an FQDN/);
  });
  it('refuses every malformed case', () => {
    const good = encodeOption120(['pool01.contoso.com']);
    for (let cut = 0; cut < good.length; cut++) expect(code(() => decodeOption120(good.slice(0, cut)))).toBe('DHCP_OPTION120_MALFORMED');
    expect(code(() => decodeOption120(Uint8Array.of(2, 1, 0x61, 0)))).toBe('DHCP_OPTION120_MALFORMED'); // unknown encoding
    expect(code(() => decodeOption120(Uint8Array.of(0, 0xc0, 0x0c)))).toBe('DHCP_OPTION120_MALFORMED'); // compression pointer
    expect(code(() => decodeOption120(Uint8Array.from([0, 64, ...new Uint8Array(64).fill(0x61), 3, ...ascii('com'), 0])))).toBe('DHCP_OPTION120_MALFORMED');
    expect(code(() => decodeOption120(Uint8Array.from([0, 4, ...ascii('po l'), 3, ...ascii('com'), 0])))).toBe('DHCP_OPTION120_MALFORMED');
    expect(code(() => decodeOption120(Uint8Array.from([0, 4, ...ascii('-abc'), 3, ...ascii('com'), 0])))).toBe('DHCP_OPTION120_MALFORMED');
    expect(code(() => decodeOption120(Uint8Array.from([0, 6, ...ascii('pool01'), 0])))).toBe('DHCP_OPTION120_MALFORMED'); // single label
    const long = Array.from({ length: 5 }, () => [63, ...new Uint8Array(63).fill(0x61)]).flat();
    expect(code(() => decodeOption120(Uint8Array.from([0, ...long, 0])))).toBe('DHCP_OPTION120_MALFORMED'); // > 255 bytes
  });
  it('property: round trip, and arbitrary bytes give only typed errors', () => {
    const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/);
    const fqdn = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.stringMatching(/^[a-z]{2,6}$/)).map(([ls, tld]) => [...ls, tld].join('.'));
    fc.assert(fc.property(fc.array(fqdn, { minLength: 1, maxLength: 3 }), (names) => {
      expect(decodeOption120(encodeOption120(names))).toEqual(names);
    }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeOption120(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(TetherError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
