import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePkcs7Certificates } from '../../../common/pool/chain/pkcs7';
import {
  NS_AUTHWS,
  NS_WST_BODY,
  NS_WSTEP,
  SOAP_ACTION_GET_AND_PUBLISH_CERT,
  VALUE_TYPE_PKCS10,
  buildGetAndPublishCertError,
  buildGetAndPublishCertRequest,
  buildGetAndPublishCertResponse,
  parseGetAndPublishCertRequest,
  parseGetAndPublishCertResponse,
} from '../../../common/pool/certprov-wire';
import { NS } from '../../../common/pool/soap-envelope';
import { parseXml } from '../../../common/xml';
import { makeChain, makeCsr } from '../../support/csr';
import { openssl, tempDir } from '../../lab/support';

const { csrPem } = makeCsr('sip:alice@contoso.test', 1024);
const chain = makeChain(csrPem);
const to = 'https://pool01.contoso.test/CertProv/CertProvisioningService.svc/WebTicket_Proof';

describe('GetAndPublishCert request', () => {
  const xml = buildGetAndPublishCertRequest({
    to,
    security: '<wsu:Timestamp wsu:Id="timestamp"><wsu:Created>a</wsu:Created><wsu:Expires>b</wsu:Expires></wsu:Timestamp>',
    csrPem,
    deviceId: '3f2c0000-0000-4000-8000-000000000001',
    entity: 'alice@contoso.test',
    requestId: 'c0ffee00-0000-4000-8000-000000000002',
  });

  it('has the MS-OCAUTHWS / SIPE element names, namespaces and attributes', () => {
    const env = parseXml(xml);
    expect(env.path([NS.soap, 'Header'], [NS.wsa, 'Action'])?.text).toBe(SOAP_ACTION_GET_AND_PUBLISH_CERT);
    expect(env.path([NS.soap, 'Header'], [NS.wsa, 'To'])?.text).toBe(to);
    expect(env.path([NS.soap, 'Header'], [NS.wsse, 'Security'], [NS.wsu, 'Timestamp'])).toBeDefined();
    const op = env.path([NS.soap, 'Body'], [NS_AUTHWS, 'GetAndPublishCert'])!;
    expect(op.attr('DeviceId')).toBe('{3f2c0000-0000-4000-8000-000000000001}');
    expect(op.attr('Entity')).toBe('alice@contoso.test');
    const rst = op.child(NS_WST_BODY, 'RequestSecurityToken')!;
    expect(rst.child(NS_WST_BODY, 'TokenType')?.text).toMatch(/#X509v3$/);
    expect(rst.child(NS.wsse, 'BinarySecurityToken')?.attr('ValueType')).toBe(VALUE_TYPE_PKCS10);
    expect(rst.child(NS_WSTEP, 'RequestID')?.text).toBe('c0ffee00-0000-4000-8000-000000000002');
    // SIPE wraps the base64 at 76 columns with CRLF.
    const lines = rst.child(NS.wsse, 'BinarySecurityToken')!.text.split('\r\n').filter(Boolean);
    expect(lines.slice(0, -1).every((l) => l.length === 76)).toBe(true);
  });

  it('round-trips through the lab-side parser with the CSR intact', () => {
    const parsed = parseGetAndPublishCertRequest(parseXml(xml));
    expect(parsed.entity).toBe('alice@contoso.test');
    expect(parsed.csrPem.replace(/\s/g, '')).toBe(csrPem.replace(/\s/g, ''));
  });

  it('rejects a request without a PKCS#10 token or with broken base64', () => {
    for (const bad of [xml.replace(VALUE_TYPE_PKCS10, 'urn:other'), xml.replace(/(ValueType="[^"]*#PKCS10"[^>]*>)\r\n/, '$1!!')]) {
      expect(() => parseGetAndPublishCertRequest(parseXml(bad))).toThrow(expect.objectContaining({ code: 'BAD_INPUT', stage: 'certificate' }));
    }
  });
});

describe('GetAndPublishCert response', () => {
  it('returns the leaf and the ordered chain from X.509v3 + PKCS#7', () => {
    const xml = buildGetAndPublishCertResponse({ certificatePem: chain.leafPem, chainPems: [chain.rootPem, chain.intermediatePem] });
    const r = parseGetAndPublishCertResponse(parseXml(xml));
    expect(r.kind).toBe('issued');
    if (r.kind !== 'issued') return;
    expect(new X509Certificate(r.certificatePem).fingerprint256).toBe(new X509Certificate(chain.leafPem).fingerprint256);
    expect(r.chainPems.map((p) => new X509Certificate(p).subject)).toEqual(['CN=Test Intermediate', 'CN=Test Root']);
  });

  it('accepts a PKCS#7 alone in RequestedSecurityToken (picks the leaf)', () => {
    const p7 = Buffer.from(encodePkcs7Certificates([chain.rootPem, chain.leafPem, chain.intermediatePem])).toString('base64');
    const xml =
      `<s:Envelope xmlns:s="${NS.soap}"><s:Body><GetAndPublishCertResponse xmlns="${NS_AUTHWS}">` +
      `<RequestSecurityTokenResponse xmlns="${NS.wst}"><RequestedSecurityToken>` +
      `<BinarySecurityToken xmlns="${NS.wsse}" ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#PKCS7">${p7}</BinarySecurityToken>` +
      `</RequestedSecurityToken></RequestSecurityTokenResponse></GetAndPublishCertResponse></s:Body></s:Envelope>`;
    const r = parseGetAndPublishCertResponse(parseXml(xml));
    expect(r.kind === 'issued' && new X509Certificate(r.certificatePem).subject).toBe('CN=sip:alice@contoso.test');
    expect(r.kind === 'issued' && r.chainPems.length).toBe(2);
  });

  it('reads an EC leaf and chain in the PKCS#7 (the chain reader handles keys forge cannot model)', () => {
    const tmp = tempDir('tether-ec-');
    try {
      const run = (args: string[]) => expect(openssl(args, tmp.dir).out).not.toMatch(/error/i);
      run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=EC Root', '-days', '2']);
      run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=sip:ec@contoso.test']);
      run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2']);
      run(['crl2pkcs7', '-nocrl', '-certfile', 'leaf.pem', '-certfile', 'ca.pem', '-outform', 'DER', '-out', 'chain.p7b']);
      const p7 = readFileSync(join(tmp.dir, 'chain.p7b')).toString('base64');
      const xml =
        `<s:Envelope xmlns:s="${NS.soap}"><s:Body><GetAndPublishCertResponse xmlns="${NS_AUTHWS}">` +
        `<RequestSecurityTokenResponse xmlns="${NS.wst}"><RequestedSecurityToken>` +
        `<BinarySecurityToken xmlns="${NS.wsse}" ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#PKCS7">${p7}</BinarySecurityToken>` +
        `</RequestedSecurityToken></RequestSecurityTokenResponse></GetAndPublishCertResponse></s:Body></s:Envelope>`;
      const r = parseGetAndPublishCertResponse(parseXml(xml));
      expect(r.kind === 'issued' && new X509Certificate(r.certificatePem).subject).toBe('CN=sip:ec@contoso.test');
      expect(r.kind === 'issued' && r.chainPems.map((p) => new X509Certificate(p).subject)).toEqual(['CN=EC Root']);
    } finally {
      tmp.remove();
    }
  });

  it('reports ErrorInfo', () => {
    const r = parseGetAndPublishCertResponse(parseXml(buildGetAndPublishCertError({ code: 'PublishFailed', message: 'data store unavailable' })));
    expect(r).toEqual({ kind: 'error', code: 'PublishFailed', message: 'data store unavailable' });
  });

  it('turns garbage certificates into CERTPROV_BAD_RESPONSE', () => {
    const good = buildGetAndPublishCertResponse({ certificatePem: chain.leafPem, chainPems: [] });
    const cases = [
      good.replace(/(#X509v3" EncodingType="[^"]*">)[^<]+/, '$1AAAA'),
      good.replace(/(#PKCS7" EncodingType="[^"]*">)[^<]+/, '$1MIIBBBBB'),
      good.replace(/<RequestedSecurityToken>[\s\S]*<\/RequestedSecurityToken>/, ''),
      good.replace('GetAndPublishCertResponse xmlns', 'Other xmlns').replace('</GetAndPublishCertResponse>', '</Other>'),
    ];
    for (const c of cases) {
      expect(() => parseGetAndPublishCertResponse(parseXml(c))).toThrow(expect.objectContaining({ code: 'CERTPROV_BAD_RESPONSE', stage: 'certificate' }));
    }
  });
});
