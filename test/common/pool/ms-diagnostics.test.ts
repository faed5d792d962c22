import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeMsDiagnostics,
  parseMsDiagnosticsHeader,
  parseOcsDiagnosticsFault,
  parseWebTicketUrlHeader,
  soapFaultString,
} from '../../../common/pool/ms-diagnostics';
import { parseXml } from '../../../common/xml';

describe('X-Ms-diagnostics header', () => {
  it('reads the MS-OCAUTHWS positional form', () => {
    const d = parseMsDiagnosticsHeader('28020;"pool01.contoso.com";"No valid security token.";"wsse:FailedAuthentication"');
    expect(d).toMatchObject({ errorId: 28020, subCode: null, source: 'pool01.contoso.com', reason: 'No valid security token.', fault: 'wsse:FailedAuthentication' });
  });

  it('reads the SIP-style named form with extra parameters and a sub-code', () => {
    const d = parseMsDiagnosticsHeader('4007.2;source="fe01.contoso.com";reason="Resource is unknown; try again";AppName="WebTicket"');
    expect(d).toMatchObject({ errorId: 4007, subCode: 2, source: 'fe01.contoso.com', reason: 'Resource is unknown; try again' });
    expect(d!.params.appname).toBe('WebTicket');
    expect(describeMsDiagnostics(d!)).toBe('4007.2 (fe01.contoso.com): Resource is unknown; try again');
  });

  it('keeps escaped quotes inside a quoted value', () => {
    expect(parseMsDiagnosticsHeader('1;reason="say \\"hi\\""')!.reason).toBe('say "hi"');
  });

  it('returns null, never throws, for anything without an error id', () => {
    for (const bad of [undefined, null, '', 'abc', ';source="x"', '-1;reason="x"']) expect(parseMsDiagnosticsHeader(bad)).toBeNull();
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      const d = parseMsDiagnosticsHeader(s);
      return d === null || Number.isInteger(d.errorId);
    }));
  });
});

describe('SOAP OCSDiagnosticsFault', () => {
  const fault = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
    <faultcode>s:Client</faultcode><faultstring xml:lang="en-US">Authentication failed</faultstring>
    <detail><af:OCSDiagnosticsFault xmlns:af="urn:component:Microsoft.Rtc.WebAuthentication.2010">
      <af:Ms-Diagnostics-Fault><af:ErrorId>28053</af:ErrorId><af:Reason>The PIN is locked.</af:Reason></af:Ms-Diagnostics-Fault>
    </af:OCSDiagnosticsFault></detail></s:Fault></s:Body></s:Envelope>`;

  it('reads ErrorId, Reason and faultcode', () => {
    const env = parseXml(fault);
    expect(parseOcsDiagnosticsFault(env)).toMatchObject({ errorId: 28053, reason: 'The PIN is locked.', fault: 's:Client' });
    expect(soapFaultString(env)).toBe('Authentication failed');
  });

  it('returns null when there is no fault or no diagnostics', () => {
    expect(parseOcsDiagnosticsFault(parseXml('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ok/></s:Body></s:Envelope>'))).toBeNull();
    expect(parseOcsDiagnosticsFault(parseXml(fault.replace('28053', 'abc')))).toBeNull();
    expect(soapFaultString(parseXml('<a/>'))).toBeNull();
  });
});

describe('X-MS-WebTicketURL', () => {
  it('accepts an http(s) URL, quoted or not, and rejects anything else', () => {
    expect(parseWebTicketUrlHeader('https://pool01.contoso.com/WebTicket/WebTicketService.svc')).toBe('https://pool01.contoso.com/WebTicket/WebTicketService.svc');
    expect(parseWebTicketUrlHeader('"https://pool01.contoso.com/WebTicket/WebTicketService.svc"')).toBe('https://pool01.contoso.com/WebTicket/WebTicketService.svc');
    expect(parseWebTicketUrlHeader('javascript:alert(1)')).toBeNull();
    expect(parseWebTicketUrlHeader('not a url')).toBeNull();
    expect(parseWebTicketUrlHeader(undefined)).toBeNull();
  });
});
