import { describe, expect, it } from 'vitest';
import {
  buildProvisioningBody,
  buildRegister,
  buildResponse,
  header,
  interpretRegisterResponse,
  newRegisterIds,
  outcomeError,
  parseAuthChallenge,
  parseNameAddr,
  parseProvisioningBody,
  parseSipMessage,
  parseSipUri,
  PROVISIONING_CONTENT_TYPE,
  registerAddresses,
  serializeSipMessage,
  tlsDskChallenge,
  type RegistrarProvisioning,
} from '../../../../common/pool/sip';
import { thrownCode as codeOf } from '../../../support/failure';

const PROV: RegistrarProvisioning = {
  registrarFqdn: 'pool01.contoso.test',
  deviceUpdateInternalUrl: 'https://pool01.contoso.test/RequestHandler/ucdevice.upx',
  deviceUpdateExternalUrl: 'https://edge.contoso.test/RequestHandlerExt/ucdevice.upx',
  enforcePinLock: true,
  minPinLength: 6,
  phoneTimeoutSeconds: 600,
};

function register() {
  return buildRegister({ sipUri: 'sip:Alice@Contoso.test', local: { host: '127.0.0.1', port: 40000 }, ids: newRegisterIds() });
}

describe('REGISTER exchange', () => {
  it('builds a REGISTER that the codec reads back', () => {
    const req = parseSipMessage(serializeSipMessage(register()));
    expect(req.kind === 'request' && req.method).toBe('REGISTER');
    expect(req.kind === 'request' && req.uri).toBe('sip:contoso.test');
    expect(header(req, 'To')).toBe('<sip:Alice@contoso.test>');
    expect(parseNameAddr(header(req, 'Contact')!).params['+sip.instance']).toMatch(/^<urn:uuid:[0-9a-f-]{36}>$/);
    if (req.kind === 'request') expect(registerAddresses(req)).toEqual({ from: 'sip:alice@contoso.test', to: 'sip:alice@contoso.test' });
  });

  it('refuses a SIP address without a user as a stage-9 BAD_INPUT', () => {
    let err: unknown;
    try {
      buildRegister({ sipUri: 'sip:contoso.test', local: { host: '127.0.0.1', port: 40000 }, ids: newRegisterIds() });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'BAD_INPUT', stage: 'logon' });
  });

  it('refuses device IDs that would add header parameters', () => {
    const build = (ids: Partial<ReturnType<typeof newRegisterIds>>) => () =>
      buildRegister({ sipUri: 'sip:alice@contoso.test', local: { host: '127.0.0.1', port: 1 }, ids: { ...newRegisterIds(), ...ids } });
    expect(build({ epid: 'abc123' })).not.toThrow();
    for (const ids of [{ epid: 'a;tag=x' }, { epid: '' }, { fromTag: 'a b' }, { branch: 'z9hG4bK"' }, { instance: 'x">;evil' }, { callId: 'a\r\nVia: x' }]) {
      let err: unknown;
      try {
        build(ids)();
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'BAD_INPUT', stage: 'logon' });
    }
  });

  it('reads a 200 OK with provisioning values', () => {
    const req = register();
    const res = buildResponse(req, 200, 'OK', [{ name: 'Contact', value: '<sip:127.0.0.1:40000;transport=tls>;expires=3600;pub-gruu="sip:alice@contoso.test;gr=urn:uuid:1"' }], {
      type: PROVISIONING_CONTENT_TYPE,
      text: buildProvisioningBody(PROV),
    }, 'srv1');
    const outcome = interpretRegisterResponse(req, parseSipMessage(serializeSipMessage(res)) as typeof res);
    expect(outcome).toEqual({ kind: 'registered', expires: 3600, gruu: 'sip:alice@contoso.test;gr=urn:uuid:1', provisioning: PROV });
    expect(outcomeError(outcome, { registrar: 'x', sipUri: 'y' })).toBeNull();
  });

  it('reads a TLS-DSK 401 and names the CertProv URL', () => {
    const req = register();
    const sts = 'https://pool01.contoso.test/CertProv/CertProvisioningService.svc';
    const res = buildResponse(req, 401, 'Unauthorized', [
      { name: 'WWW-Authenticate', value: 'NTLM realm="SIP Communications Service", targetname="pool01", version=4' },
      { name: 'WWW-Authenticate', value: tlsDskChallenge('pool01.contoso.test', sts) },
    ]);
    const outcome = interpretRegisterResponse(req, res);
    expect(outcome.kind === 'challenge' && outcome.stsUri).toBe(sts);
    const err = outcomeError(outcome, { registrar: 'pool01:5061', sipUri: 'sip:alice@contoso.test' })!;
    expect(err.code).toBe('REGISTRAR_CERT_REQUIRED');
    expect(err.stage).toBe('logon');
    expect(err.detail.stsUri).toBe(sts);
  });

  it('maps 403 and other failures, and refuses an answer to another request', () => {
    const req = register();
    expect(outcomeError(interpretRegisterResponse(req, buildResponse(req, 403, 'Forbidden')), { registrar: 'r', sipUri: 's' })!.code).toBe('REGISTRAR_FORBIDDEN');
    expect(outcomeError(interpretRegisterResponse(req, buildResponse(req, 500, 'Server Error')), { registrar: 'r', sipUri: 's' })!.code).toBe('REGISTRAR_REJECTED');
    const other = register();
    expect(codeOf(() => interpretRegisterResponse(req, buildResponse(other, 200, 'OK')))).toBe('SIP_MESSAGE_MALFORMED');
    // A 200 without provisioning values is a typed error, not a silent success.
    expect(codeOf(() => interpretRegisterResponse(req, buildResponse(req, 200, 'OK')))).toBe('REGISTRAR_PROVISIONING_MALFORMED');
  });

  it('parses challenges, addresses and URIs strictly', () => {
    expect(parseAuthChallenge('TLS-DSK realm="a, b", version=4, sts-uri="https://x/y"').params).toEqual({ realm: 'a, b', version: '4', 'sts-uri': 'https://x/y' });
    for (const bad of ['', 'TLS-DSK realm', 'TLS-DSK realm="x', 'TLS-DSK a="b" c']) expect(codeOf(() => parseAuthChallenge(bad))).toBe('SIP_MESSAGE_MALFORMED');
    expect(parseNameAddr('"Alice \\"A\\"" <sip:alice@x.test>;tag=9').display).toBe('Alice "A"');
    for (const bad of ['<sip:a@b', 'nouri', '"x" sip:a@b']) expect(codeOf(() => parseNameAddr(bad))).toBe('SIP_MESSAGE_MALFORMED');
    expect(parseSipUri('sips:bob@[::1]:5061;transport=tls')).toEqual({ scheme: 'sips', user: 'bob', host: '[::1]', port: 5061 });
    expect(codeOf(() => parseSipUri('sip:a@b:99999'))).toBe('SIP_MESSAGE_MALFORMED');
    // User parts that would break out of <…> in From/To, or carry a password, are refused.
    for (const bad of ['sip:a>;tag=x@b', 'sip:a<b@c', 'sip:"a"@b', 'sip:a b@c', 'sip:alice:secret@b']) {
      expect(codeOf(() => parseSipUri(bad))).toBe('SIP_MESSAGE_MALFORMED');
      expect(() => buildRegister({ sipUri: bad, local: { host: '127.0.0.1', port: 1 }, ids: newRegisterIds() })).toThrow();
    }
    expect(parseSipUri("sip:+1425555.0101_o'neil@b").user).toBe("+1425555.0101_o'neil");
  });
});

describe('provisioning body', () => {
  it('round-trips', () => {
    expect(parseProvisioningBody(buildProvisioningBody(PROV))).toEqual(PROV);
  });

  it.each([
    ['not XML', 'hello'],
    ['a DTD', '<!DOCTYPE x [<!ENTITY a "b">]><provisionGroupList/>'],
    ['another root', '<other xmlns="http://schemas.microsoft.com/2006/09/sip/provisiongrouplist-notification"/>'],
    ['a missing value', buildProvisioningBody(PROV).replace(/<property name="ucminpinlength">6<\/property>/, '')],
    ['a bad number', buildProvisioningBody(PROV).replace('>6<', '>six<')],
    ['a bad boolean', buildProvisioningBody(PROV).replace('>true<', '>yes<')],
    ['a bad timespan', buildProvisioningBody(PROV).replace('>00:10:00<', '>10<')],
    ['a bad URL', buildProvisioningBody(PROV).replace('https://pool01.contoso.test/RequestHandler/ucdevice.upx', 'ftp://x')],
    ['a bad FQDN', buildProvisioningBody(PROV).replace('>pool01.contoso.test<', '>pool 01<')],
    ['an oversize body', `<provisionGroupList>${'x'.repeat(40_000)}</provisionGroupList>`],
  ])('refuses %s', (_name, body) => {
    expect(codeOf(() => parseProvisioningBody(body))).toBe('REGISTRAR_PROVISIONING_MALFORMED');
  });
});

describe('RegisterTransaction (the socket-free exchange native/ and main/ share)', () => {
  it('skips provisional and foreign answers, byte by byte, and ends on the final answer', async () => {
    const { RegisterTransaction } = await import('../../../../common/pool/sip');
    const t = new RegisterTransaction({ sipUri: 'sip:alice@contoso.test', local: { host: '127.0.0.1', port: 1 }, ids: newRegisterIds() }, 'pool:5061');
    const req = parseSipMessage(t.bytes());
    if (req.kind !== 'request') throw new Error('not a request');
    const trying = buildResponse(req, 100, 'Trying');
    const foreign = buildResponse(register(), 200, 'OK');
    const final = buildResponse(req, 200, 'OK', [], { type: PROVISIONING_CONTENT_TYPE, text: buildProvisioningBody(PROV) });
    const wire = new Uint8Array([...serializeSipMessage(trying), ...serializeSipMessage(foreign), ...serializeSipMessage(final)]);
    let step = t.receive(new Uint8Array(0));
    for (let i = 0; i < wire.length && !step.done; i++) step = t.receive(wire.subarray(i, i + 1));
    expect(step.done && 'registration' in step && step.registration).toEqual({ sipUri: 'sip:alice@contoso.test', registrar: 'pool:5061', expires: null, gruu: null, provisioning: PROV, securityAssociation: null });
  });

  it('ends with a typed error on garbage', async () => {
    const { RegisterTransaction } = await import('../../../../common/pool/sip');
    const t = new RegisterTransaction({ sipUri: 'sip:alice@contoso.test', local: { host: '127.0.0.1', port: 1 }, ids: newRegisterIds() }, 'pool:5061');
    const step = t.receive(new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    expect(step.done && 'error' in step && step.error.code).toBe('SIP_MESSAGE_MALFORMED');
  });
});

describe('hostile registrar answers (fuzz)', () => {
  it('a mutated 200 OK or 401 ends the transaction with a typed, non-internal error or a registration', async () => {
    const fc = (await import('fast-check')).default;
    const { RegisterTransaction } = await import('../../../../common/pool/sip');
    const ids = newRegisterIds();
    const opts = { sipUri: 'sip:alice@contoso.test', local: { host: '127.0.0.1', port: 1 }, ids };
    const req = new RegisterTransaction(opts, 'p').request;
    const ok = serializeSipMessage(buildResponse(req, 200, 'OK', [{ name: 'Contact', value: '<sip:1.2.3.4:5>;expires=60' }], { type: PROVISIONING_CONTENT_TYPE, text: buildProvisioningBody(PROV) }));
    const challenge = serializeSipMessage(buildResponse(req, 401, 'Unauthorized', [{ name: 'WWW-Authenticate', value: tlsDskChallenge('pool', 'https://pool/CertProv/CertProvisioningService.svc') }]));
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.tuple(fc.nat(10_000), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 5 }), (which, edits) => {
        const bytes = (which ? ok : challenge).slice();
        for (const [at, b] of edits) bytes[at % bytes.length] = b;
        const step = new RegisterTransaction(opts, 'p').receive(bytes);
        if (step.done && 'error' in step) expect(step.error.code).not.toBe('INTERNAL');
      }),
      { numRuns: 3000 },
    );
  });
});
