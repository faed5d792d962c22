import { createPublicKey } from 'node:crypto';
import forge from 'node-forge';
import { TetherError } from '../../../common/errors';
import { issueCertificate } from '../pool-stages';
import { checkIssuedCertificate } from '../throwaway-key';
import { derOf, progressOf } from './common';
import type { CertificateFacts, StageDefinition } from './types';
import { makeThrowawayKey } from '../throwaway-key';
import type { CertificateDone } from '../pool-bootstrap';
import type { PoolStageDefinition } from './pool-types';

/** Stage 8: the phone makes its key pair and request; the pool issues and publishes; the phone installs it. */
export const certificateStage: StageDefinition<'certificate'> = {
  id: 'certificate',
  needs: 'paired phone',
  pool: true,
  async run(ctx) {
    const auth = ctx.facts.auth!;
    const chain = ctx.facts['ca-chain']!;
    if (auth.method === 'certificate') {
      const prior = ctx.services.prior(ctx.spec.serial).certificate!;
      const check = checkIssuedCertificate(prior.certificatePem, createPublicKey(prior.certificatePem).export({ type: 'spki', format: 'pem' }).toString(), chain.pems, ctx.services.now());
      const facts: CertificateFacts = { ...pick(check), thumbprint: check.fingerprint256.replace(/:/g, ''), certificatePem: prior.certificatePem, chainPems: prior.chainPems, kept: true };
      return { facts, status: 'skipped', summary: `kept the phone's certificate '${check.subject}' (until ${check.notAfter})` };
    }
    const ticket = ctx.memory.ticket;
    // onResume of stage 7 sends a resumed job back there; a ticket is always at hand here.
    if (!ticket) throw new TetherError('INTERNAL', 'Stage 8 ran without the web ticket of stage 7.');
    const phone = await ctx.phone();
    const keyBits = ctx.policy.keyBits;
    ctx.progress({ message: `the phone makes an RSA-${keyBits} key pair and a request for ${auth.sipUri}` });
    const { csr } = await phone.session.call('makeKeyPair', { subject: auth.sipUri, keyBits }, { timeoutMs: 120_000 });
    const request = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(csr).toString('binary'))));
    const csrPem = forge.pki.certificationRequestToPem(request);
    // Normalised through Node so it compares with the certificate's key byte for byte.
    const publicKeyPem = createPublicKey(forge.pki.publicKeyToPem(request.publicKey!)).export({ type: 'spki', format: 'pem' }).toString();
    const issued = await issueCertificate(
      { http: ctx.poolHttp(), auth, ticket, csrPem, ...(ctx.policy.deviceId === null ? {} : { deviceId: ctx.policy.deviceId }), now: ctx.services.now },
      progressOf(ctx),
    );
    const check = checkIssuedCertificate(issued.certificatePem, publicKeyPem, chain.pems, ctx.services.now());
    ctx.progress({ message: 'installing the certificate on the phone' });
    const installed = await phone.session.call('installCertificate', { certificate: derOf(issued.certificatePem), chain: issued.chainPems.map(derOf) });
    ticket.dispose();
    ctx.memory.ticket = null;
    const facts: CertificateFacts = { ...pick(check), thumbprint: installed.thumbprint, certificatePem: issued.certificatePem, chainPems: issued.chainPems, kept: false };
    return { facts, summary: `issued and published '${check.subject}' (until ${check.notAfter}) for the phone's own key; installed (thumbprint ${installed.thumbprint})` };
  },
  // Resumed before the phone signed in: a phone that lost power since keeps no key pair it has not
  // signed in with (native/virtual's key vault, a real phone's half-finished enrolment), so the
  // certificate is issued again. Stage 7 runs again first for the web ticket.
  onResume: (facts) => (facts.auth?.method !== 'certificate' && facts.logon === undefined ? 'redo' : 'keep'),
};

function pick(c: { subject: string; serial: string; notBefore: string; notAfter: string }) {
  return { subject: c.subject, serial: c.serial, notBefore: c.notBefore, notAfter: c.notAfter };
}

/** Stage 8 without a phone: a throw-away key and request in memory stand in for the phone's. */
export const certificatePoolStage: PoolStageDefinition<'certificate'> = {
  id: 'certificate',
  needs: 'none',
  key: 'certificate',
  async run(r, progress) {
    const auth = r.facts.auth!;
    progress('making a throw-away RSA-2048 key and request in memory');
    const key = (r.key = makeThrowawayKey());
    const csrPem = key.csrFor(auth.sipUri);
    const issued = await issueCertificate({ http: r.pool(), auth, ticket: r.ticket!, csrPem, ...(r.options.deviceId === undefined ? {} : { deviceId: r.options.deviceId }), now: r.now }, progress);
    r.ticket?.dispose();
    r.ticket = undefined;
    const check = checkIssuedCertificate(issued.certificatePem, key.publicKeyPem, r.facts.chain!.pems, r.now());
    const value: CertificateDone = { ...check, certificatePem: issued.certificatePem, chainPems: issued.chainPems };
    return { value, summary: `issued and published '${check.subject}' (serial ${check.serial}, until ${check.notAfter}); it carries the request's key and chains to the stage-6 root` };
  },
};
