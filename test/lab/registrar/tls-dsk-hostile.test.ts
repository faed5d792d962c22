import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import {
  buildRegister,
  buildResponse,
  header,
  newRegisterIds,
  TLS_DSK_INNER_TLS,
  TlsDskClientAuth,
  TlsDskClientHandshake,
  type SipRequest,
  type SipResponse,
} from '../../../common/pool/sip';
import { startLab, type LabHandle } from '../../../lab';
import { TlsDskAcceptor } from '../../../lab/registrar/tls-dsk';
import { tempDir } from '../support';
import { makeCsr } from '../../support/csr';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
let acceptorFor: (stepTimeoutMs?: number) => TlsDskAcceptor;
let alice: { certPem: string; keyPem: string; sipUri: string };

beforeAll(async () => {
  tmp = tempDir();
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), services: [], publishEndpoints: false });
  const credentials = () => ({ ...lab.context.tls.current(), ca: lab.context.ca.chainPems() });
  acceptorFor = (stepTimeoutMs) => new TlsDskAcceptor({ targetname: lab.context.poolFqdn, credentials, ...(stepTimeoutMs === undefined ? {} : { stepTimeoutMs }) });
  const sipUri = lab.context.users.all()[0]!.sipUri;
  const { csrPem, keyPem } = makeCsr(sipUri);
  alice = { sipUri, keyPem, certPem: lab.context.ca.issueFromCsr(csrPem, sipUri, 24) };
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

const STS = 'https://pool/CertProv/CertProvisioningService.svc';

function withAuthorization(value: string): SipRequest {
  const req = buildRegister({ sipUri: alice.sipUri, local: { host: '127.0.0.1', port: 5555 }, ids: newRegisterIds() });
  return { ...req, headers: [...req.headers, { name: 'Authorization', value }] };
}

const dsk = (params: string) => `TLS-DSK qop="auth", realm="SIP Communications Service", targetname="${lab.context.poolFqdn}", ${params}`;

describe('the lab TLS-DSK acceptor on hostile input', () => {
  it('answers gssapi-data that is not whole TLS records, or junk records, with 401 and 1010', async () => {
    const a = acceptorFor();
    for (const data of ['AAAA', Buffer.from([22, 3, 3, 0, 10, 1, 2]).toString('base64'), Buffer.from([22, 3, 1, 0, 4, 9, 9, 9, 9]).toString('base64')]) {
      const step = await a.accept(withAuthorization(dsk(`gssapi-data="${data}", version=4`)), STS);
      expect(step).toMatchObject({ kind: 'challenge', diagnostic: { id: 1010 } });
    }
    a.close();
  });

  it('gives up on a flight that leaves the handshake waiting (hang guard), with 1010', async () => {
    // 1 s: far above a real step (the ClientHello answer below must not trip it on a busy machine).
    const a = acceptorFor(1000);
    const client = new TlsDskClientHandshake(createSecureContext({ cert: alice.certPem, key: alice.keyPem, ca: lab.context.ca.chainPems(), ...TLS_DSK_INNER_TLS }), lab.context.poolFqdn);
    const first = await a.accept(withAuthorization(dsk(`gssapi-data="${(await client.start()).toString('base64')}", version=4`)), STS);
    if (first.kind !== 'challenge') throw new Error('expected a challenge');
    const challenge = first.challenges[0]!;
    const opaque = /opaque="([^"]+)"/.exec(challenge)![1]!;
    const serverFlight = Buffer.from(/gssapi-data="([^"]+)"/.exec(challenge)![1]!, 'base64');
    const step = await client.next(serverFlight);
    if (step.kind !== 'token') throw new Error('expected the client flight');
    // Only the first record (the client's Certificate): whole, but the server waits for the rest.
    const firstRecord = step.token.subarray(0, 5 + step.token.readUInt16BE(3));
    const stalled = await a.accept(withAuthorization(dsk(`opaque="${opaque}", gssapi-data="${firstRecord.toString('base64')}", version=4`)), STS);
    expect(stalled).toMatchObject({ kind: 'challenge', diagnostic: { id: 1010 } });
    // The SA is gone: its opaque is unknown now.
    const again = await a.accept(withAuthorization(dsk(`opaque="${opaque}", gssapi-data="${firstRecord.toString('base64')}", version=4`)), STS);
    expect(again).toMatchObject({ kind: 'challenge', diagnostic: { id: 1008 } });
    client.close();
    a.close();
  });

  it('refuses a fifth security association on one connection (1009)', async () => {
    const a = acceptorFor();
    const hello = async () => {
      const c = new TlsDskClientHandshake(createSecureContext({ ca: lab.context.ca.chainPems(), ...TLS_DSK_INNER_TLS }), lab.context.poolFqdn);
      const token = await c.start();
      c.close();
      return a.accept(withAuthorization(dsk(`gssapi-data="${token.toString('base64')}", version=4`)), STS);
    };
    for (let i = 0; i < 4; i++) expect((await hello()).kind).toBe('challenge');
    expect(await hello()).toMatchObject({ kind: 'challenge', diagnostic: { id: 1009 } });
    a.close();
  });

  it('never throws on random Authorization values; none authenticates', async () => {
    const a = acceptorFor(50);
    const params = fc.constantFrom('gssapi-data', 'opaque', 'crand', 'cnum', 'response', 'realm', 'targetname', 'version', 'qop');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(params, fc.oneof(fc.base64String({ maxLength: 200 }), fc.string({ maxLength: 20 }))), { maxLength: 6 }), async (pairs) => {
        const value = dsk(pairs.map(([k, v]) => `${k}="${v.replace(/["\\\r\n]/g, '')}"`).join(', ') || 'version=4');
        const step = await a.accept(withAuthorization(value), STS);
        expect(step.kind).not.toBe('authenticated');
      }),
      { numRuns: 150 },
    );
    a.close();
  });

  it('ignores an Authorization for another realm or target (the caller challenges afresh)', async () => {
    const a = acceptorFor();
    const other = withAuthorization('TLS-DSK qop="auth", realm="Elsewhere", targetname="x", gssapi-data="AAAA", version=4');
    expect(await a.accept(other, STS)).toEqual({ kind: 'unauthenticated' });
    expect(header(other, 'Authorization')).toContain('Elsewhere');
    a.close();
  });
});

describe('the TLS-DSK client checks what the server says', () => {
  /** Runs a client and the lab acceptor in memory up to the signed REGISTER; returns both and that request. */
  async function established() {
    const a = acceptorFor();
    const context = createSecureContext({ cert: alice.certPem, key: alice.keyPem, ca: lab.context.ca.chainPems(), ...TLS_DSK_INNER_TLS });
    const client = new TlsDskClientAuth({ secureContext: () => context, certificateDer: new X509Certificate(alice.certPem).raw }, 'lab', () => Date.parse('2026-01-01T00:00:00Z'));
    const ids = newRegisterIds();
    let req = buildRegister({ sipUri: alice.sipUri, local: { host: '127.0.0.1', port: 5555 }, ids, cseq: 1 });
    for (let cseq = 2; cseq < 8; cseq++) {
      const step = await a.accept(req, STS);
      if (step.kind === 'authenticated') return { a, client, req, step };
      const challenges = step.kind === 'challenge' ? step.challenges : a.challenges(STS);
      const res: SipResponse = buildResponse(req, 401, 'Unauthorized', challenges.map((value) => ({ name: 'WWW-Authenticate', value })));
      const answer = await client.answer(res);
      if ('error' in answer) throw answer.error;
      req = answer.authorize(buildRegister({ sipUri: alice.sipUri, local: { host: '127.0.0.1', port: 5555 }, ids, cseq }));
    }
    throw new Error('no SA');
  }

  it('accepts the server-signed 200 and reports the SA; refuses a wrong or missing rspauth', async () => {
    const { a, client, req, step } = await established();
    if (step.kind !== 'authenticated') throw new Error('not authenticated');
    const ok = step.sign(buildResponse(req, 200, 'OK', [{ name: 'Expires', value: '3600' }]));
    expect(client.verify(ok)).toBeNull();
    expect(client.securityAssociation()).toMatchObject({ protocol: 'TLS-DSK', innerTls: 'TLSv1.2' });
    const info = header(ok, 'Authentication-Info')!;
    const forged = { ...ok, headers: ok.headers.map((h) => (h.name === 'Authentication-Info' ? { ...h, value: info.replace(/rspauth="[0-9a-f]+"/, `rspauth="${'0'.repeat(40)}"`) } : h)) };
    expect(client.verify(forged)?.code).toBe('REGISTRAR_SIGNATURE_INVALID');
    const bare = { ...ok, headers: ok.headers.filter((h) => h.name !== 'Authentication-Info') };
    expect(client.verify(bare)?.detail.reason).toBe('no Authentication-Info');
    // The signature covers Expires: a changed value is caught.
    const changed = { ...ok, headers: ok.headers.map((h) => (h.name === 'Expires' ? { ...h, value: '60' } : h)) };
    expect(client.verify(changed)?.code).toBe('REGISTRAR_SIGNATURE_INVALID');
    client.close();
    a.close();
  });

  it('says REGISTRAR_REJECTED when the 401 offers no TLS-DSK at all (e.g. NTLM and Kerberos only)', async () => {
    const context = createSecureContext({ cert: alice.certPem, key: alice.keyPem, ca: lab.context.ca.chainPems(), ...TLS_DSK_INNER_TLS });
    const client = new TlsDskClientAuth({ secureContext: () => context, certificateDer: new X509Certificate(alice.certPem).raw }, 'lab');
    const req = buildRegister({ sipUri: alice.sipUri, local: { host: '127.0.0.1', port: 5555 }, ids: newRegisterIds() });
    const res = buildResponse(req, 401, 'Unauthorized', [
      { name: 'WWW-Authenticate', value: 'NTLM realm="SIP Communications Service", targetname="fe01.contoso.test", version=4' },
      { name: 'WWW-Authenticate', value: 'Kerberos realm="SIP Communications Service", targetname="sip/fe01.contoso.test", version=4' },
    ]);
    const answer = await client.answer(res);
    expect('error' in answer && answer.error.code).toBe('REGISTRAR_REJECTED');
    expect('error' in answer && String(answer.error.detail.schemes)).toContain('NTLM');
  });

  it('takes a 401 after its signed REGISTER as a rejection (REGISTRAR_CERT_REJECTED), not another round', async () => {
    const { a, client, req } = await established();
    const res = buildResponse(req, 401, 'Unauthorized', a.challenges(STS).map((value) => ({ name: 'WWW-Authenticate', value })));
    const answer = await client.answer(res);
    expect('error' in answer && answer.error.code).toBe('REGISTRAR_CERT_REJECTED');
    client.close();
    a.close();
  });
});
