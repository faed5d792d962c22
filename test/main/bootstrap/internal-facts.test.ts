import { describe, expect, it } from 'vitest';
import { internalFactsOfJob, storedInternalFacts } from '../../../main/bootstrap/internal-facts';
import { policyOf, type JobFacts } from '../../../main/bootstrap/stages/types';
import { parseInternalSignInFacts } from '../../../main/pool/external';
import { makeChain, makeCsr } from '../../support/csr';

/** The facts an internal sign-in with a phone leaves for the external path (docs/service.md). */

const { csrPem } = makeCsr('sip:alice@contoso.test', 1024);
const { rootPem, intermediatePem, leafPem } = makeChain(csrPem);
const spec = { serial: 'CX600-V001', kind: 'pin' as const, user: '101' };
const inBand = {
  registrarFqdn: 'pool01.contoso.test',
  deviceUpdateInternalUrl: 'https://pool01.contoso.test/RequestHandler/ucdevice.upx',
  deviceUpdateExternalUrl: 'https://lyncext.contoso.test/RequestHandlerExt/ucdevice.upx',
};

function jobFacts(provisioning: typeof inBand | null): JobFacts {
  return {
    'ca-chain': { rootSubject: 'CN=root', rootFingerprint: '', trust: 'pinned-fingerprint', intermediates: [], inferredFromTls: 0, sourceUrl: 'http://x', pems: [intermediatePem, rootPem] },
    auth: { method: 'certificate', sipUri: 'sip:alice@contoso.test', reason: 'kept' },
    certificate: { subject: 'CN=sip:alice@contoso.test', serial: '01', notBefore: '', notAfter: '', thumbprint: '', certificatePem: leafPem, chainPems: [], kept: true },
    logon: { sipUri: 'sip:alice@contoso.test', registrar: 'pool01.contoso.test', display: '', lateUpdateCheck: null, provisioning },
  };
}

describe('internalFactsOfJob', () => {
  it('builds tether-internal-sign-in/1 facts from the job and the in-band addresses the phone reported', () => {
    const facts = internalFactsOfJob(spec, policyOf({ domain: 'contoso.test' }), jobFacts(inBand), new Date('2026-12-05T12:00:00Z'));
    const parsed = parseInternalSignInFacts(facts);
    expect(parsed).toMatchObject({ domain: 'contoso.test', sipUri: 'sip:alice@contoso.test', authMethod: 'pin', deviceUpdateExternalUrl: inBand.deviceUpdateExternalUrl });
    expect(parsed.webServices.externalFqdn).toBe('lyncext.contoso.test');
    expect(parsed.chain.pems).toHaveLength(2);
    expect(parsed.certificate).not.toBeNull();
    expect(storedInternalFacts(facts)).toBe(facts);
  });

  it('no in-band addresses, or a plain-http external one: a none marker with the reason, which the gate reads as no facts', () => {
    const none = internalFactsOfJob(spec, policyOf(), jobFacts(null), new Date());
    expect(none).toMatchObject({ format: 'none', reason: expect.stringMatching(/in-band/) });
    expect(storedInternalFacts(none)).toBeNull();
    const plain = internalFactsOfJob(spec, policyOf(), jobFacts({ ...inBand, deviceUpdateExternalUrl: 'http://lyncext.contoso.test/RequestHandlerExt/ucdevice.upx' }), new Date());
    expect(plain).toMatchObject({ format: 'none', reason: expect.stringMatching(/^EXTERNAL_PLAIN_HTTP_REFUSED/) });
  });
});
