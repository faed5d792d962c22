import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TetherError } from '../../../common/errors';
import {
  decodeDeviceUpdateRequest,
  decodeDeviceUpdateResponse,
  DEVICE_UPDATE_NS,
  encodeDeviceUpdateRequest,
  encodeDeviceUpdateResponse,
  formatModules,
  parseModules,
  storePath,
  type DeviceIdentity,
} from '../../../common/pool/device-update-wire';

const phone: DeviceIdentity = {
  deviceType: 'UCPhone',
  mac: '00:04:f2:12:34:56',
  serial: '0004F2123456',
  vendor: 'Polycom',
  model: 'CX600',
  revision: 'A',
  locale: 'ENU',
  modules: [{ fileName: 'CPE.nbt', version: '4.0.7577.4366', timestamp: '2013-04-01T10:00:00Z' }],
  lastUser: 'sip:alice@contoso.test',
};
const offer = {
  fileName: 'CPE.nbt',
  signatureFileName: 'CPE.cat',
  version: '4.0.7577.4420',
  timestamp: '2014-01-01T00:00:00Z',
  size: 1234,
  sha256: 'ab'.repeat(32),
  signatureSize: 321,
  signatureSha256: 'cd'.repeat(32),
};
const base = 'http://pool01.contoso.test/RequestHandler/Files/UCPhone/Polycom/CX600/A/ENU/4.0.7577.4420/CPE';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof TetherError) return e.code;
    throw e;
  }
  return 'no error';
};

const response = (inner: string) => `<?xml version="1.0"?><DeviceUpdateResponse xmlns="${DEVICE_UPDATE_NS}">${inner}</DeviceUpdateResponse>`;
const moduleXml = (o: Partial<Record<keyof typeof offer, string>> = {}) => {
  const m = { ...Object.fromEntries(Object.entries(offer).map(([k, v]) => [k, String(v)])), ...o };
  return `<Modules><Module><FileName>${m.fileName}</FileName><SignatureFileName>${m.signatureFileName}</SignatureFileName><Version>${m.version}</Version><Timestamp>${m.timestamp}</Timestamp><Size>${m.size}</Size><Sha256>${m.sha256}</Sha256><SignatureSize>${m.signatureSize}</SignatureSize><SignatureSha256>${m.signatureSha256}</SignatureSha256></Module></Modules>`;
};

describe('Device Update wire (our model)', () => {
  it('round-trips a request, normalising the MAC address', () => {
    const xml = encodeDeviceUpdateRequest(phone);
    expect(xml).toContain('<RequestModules>CPE.nbt;4.0.7577.4366;2013-04-01T10:00:00Z</RequestModules>');
    expect(decodeDeviceUpdateRequest(xml)).toEqual({ ...phone, mac: '00-04-F2-12-34-56' });
    const { lastUser: _drop, ...anonymous } = phone;
    expect(decodeDeviceUpdateRequest(encodeDeviceUpdateRequest(anonymous))).not.toHaveProperty('lastUser');
  });

  it('round-trips an answer with and without modules', () => {
    const answer = { baseUrl: base, externalBaseUrl: base.replace('http:', 'https:'), modules: [offer] };
    expect(decodeDeviceUpdateResponse(encodeDeviceUpdateResponse(answer))).toEqual(answer);
    expect(decodeDeviceUpdateResponse(encodeDeviceUpdateResponse({ baseUrl: null, externalBaseUrl: null, modules: [] }))).toEqual({
      baseUrl: null,
      externalBaseUrl: null,
      modules: [],
    });
  });

  it('builds the store path of [S21]', () => {
    expect(storePath(phone, '1.0.522.101')).toBe('UCPhone/Polycom/CX600/A/ENU/1.0.522.101/CPE');
    expect(codeOf(() => storePath({ ...phone, model: '../etc' }, '1.0'))).toBe('BAD_INPUT');
    expect(codeOf(() => storePath(phone, '1.0/../..'))).toBe('BAD_INPUT');
  });

  it('refuses hostile or broken answers with UPDATE_RESPONSE_MALFORMED', () => {
    const bad = (xml: string) => codeOf(() => decodeDeviceUpdateResponse(xml));
    expect(bad(`<!DOCTYPE x [<!ENTITY a "b">]>${response('')}`)).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(bad('<DeviceUpdateResponse/>')).toBe('UPDATE_RESPONSE_MALFORMED'); // wrong namespace
    expect(bad(response('<BaseURL>x</BaseURL'))).toBe('UPDATE_RESPONSE_MALFORMED'); // not well-formed
    expect(bad(response(`<BaseURL>file:///etc/passwd</BaseURL>${moduleXml()}`))).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(bad(response(moduleXml()))).toBe('UPDATE_RESPONSE_MALFORMED'); // modules but no BaseURL
    const withBase = (o: Parameters<typeof moduleXml>[0]) => bad(response(`<BaseURL>${base}</BaseURL>${moduleXml(o)}`));
    expect(withBase({})).toBe('no error');
    expect(withBase({ fileName: '../../evil' })).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(withBase({ fileName: '..' })).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(withBase({ signatureFileName: 'a/b' })).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(withBase({ version: '4.0.x' })).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(withBase({ size: '-1' })).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(withBase({ size: '99999999999' })).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(withBase({ sha256: 'abc' })).toBe('UPDATE_RESPONSE_MALFORMED');
    // Our model's signature fields: required, bounded (16 MiB), 64 hex digits.
    expect(withBase({ signatureSize: '' })).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(withBase({ signatureSize: String(16 * 1024 * 1024 + 1) })).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(withBase({ signatureSha256: 'zz'.repeat(32) })).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(bad(response(`<BaseURL>${base}</BaseURL>${moduleXml().replace(/<SignatureSha256>.*<\/SignatureSha256>/, '')}`))).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(bad(response(`<BaseURL>${base}</BaseURL><BaseURL>${base}</BaseURL>`))).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(bad(response(`<BaseURL>${base}</BaseURL><Modules><Module><FileName>CPE.nbt</FileName></Module></Modules>`))).toBe('UPDATE_RESPONSE_MALFORMED');
    expect(bad(response(`<BaseURL>${'x'.repeat(70_000)}</BaseURL>`))).toBe('UPDATE_RESPONSE_MALFORMED'); // over the size limit
  });

  it('refuses broken requests with BAD_INPUT (the lab answers 400)', () => {
    const good = encodeDeviceUpdateRequest(phone);
    expect(codeOf(() => decodeDeviceUpdateRequest(good.replace('00-04-F2-12-34-56', 'nope')))).toBe('BAD_INPUT');
    expect(codeOf(() => decodeDeviceUpdateRequest(good.replace('<Model>CX600</Model>', '<Model>../x</Model>')))).toBe('BAD_INPUT');
    expect(codeOf(() => decodeDeviceUpdateRequest(good.replace('<Locale>ENU</Locale>', '')))).toBe('BAD_INPUT');
    expect(codeOf(() => decodeDeviceUpdateRequest(good.replace('CPE.nbt;4.0.7577.4366;', 'CPE.nbt;4.0;x;y;')))).toBe('BAD_INPUT');
    expect(codeOf(() => decodeDeviceUpdateRequest('<!DOCTYPE a><a/>'))).toBe('BAD_INPUT');
  });

  it('property: module lists round-trip through the #-separated form', () => {
    const mod = fc.record({
      fileName: fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_-]{0,10}(\.[a-z]{1,3})?$/),
      version: fc.array(fc.integer({ min: 0, max: 99999 }), { minLength: 1, maxLength: 4 }).map((a) => a.join('.')),
      timestamp: fc.stringMatching(/^[0-9T:Z-]{0,20}$/),
    });
    fc.assert(
      fc.property(fc.array(mod, { maxLength: 5 }), (mods) => {
        expect(parseModules(formatModules(mods))).toEqual(mods);
      }),
    );
  });

  it('property: arbitrary text never escapes as anything but a typed error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        for (const decode of [decodeDeviceUpdateResponse, decodeDeviceUpdateRequest]) {
          try {
            decode(response(s));
          } catch (e) {
            expect(e).toBeInstanceOf(TetherError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('Device Update answer caps (a hostile pool cannot fill the disk)', () => {
  const many = (n: number, size: number) =>
    response(
      `<BaseURL>${base}</BaseURL><Modules>` +
        Array.from({ length: n }, (_, i) => moduleXml({ fileName: `M${i}.nbt`, signatureFileName: `M${i}.cat`, size: String(size) }).replace(/^<Modules>|<\/Modules>$/g, '')).join('') +
        '</Modules>',
    );

  it('caps the number of modules in one answer', () => {
    expect(codeOf(() => decodeDeviceUpdateResponse(many(16, 1234)))).toBe('no error');
    expect(codeOf(() => decodeDeviceUpdateResponse(many(17, 1234)))).toBe('UPDATE_OFFER_TOO_LARGE');
  });

  it('caps the total bytes of one answer, though each image is under its own limit', () => {
    const nearGiB = 1024 * 1024 * 1024 - 4096; // with its 321-byte signature, two fit in 2 GiB
    expect(codeOf(() => decodeDeviceUpdateResponse(many(2, nearGiB)))).toBe('no error');
    expect(codeOf(() => decodeDeviceUpdateResponse(many(3, nearGiB)))).toBe('UPDATE_OFFER_TOO_LARGE');
  });
});
