import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TetherError } from '../../../../common/errors';
import { startLab, type LabHandle } from '../../../../lab';
import { registrarService } from '../../../../lab/registrar/service';
import { createPoolResolver, type PoolResolver } from '../../../../main/pool/net/resolver';
import { registerWithRegistrar, type RegisterOptions } from '../../../../main/pool/sip';
import { tempDir } from '../../../lab/support';
import { issue, testKey } from '../../../support/throwaway-pki';
import { failureOf as failure } from '../../../support/failure';
import { makeCsr } from '../../../support/csr';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
let resolver: PoolResolver;
let port: number;
let alice: { sipUri: string; certPem: string; keyPem: string };
let bob: { sipUri: string; certPem: string; keyPem: string };

/** A phone-like key pair and CSR (subject CN = SIP URI), issued by the lab CA as stage 8 would. */
function enrol(sipUri: string): { sipUri: string; certPem: string; keyPem: string } {
  const { csrPem, keyPem } = makeCsr(sipUri);
  const certPem = lab.context.ca.issueFromCsr(csrPem, sipUri, 24);
  return { sipUri, certPem, keyPem };
}

beforeAll(async () => {
  tmp = tempDir();
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), services: [registrarService] });
  resolver = createPoolResolver({ server: lab.dnsServer });
  port = Number(lab.endpoints.registrarPort);
  const users = lab.context.users.all();
  alice = enrol(users[0]!.sipUri);
  bob = enrol(users[1]!.sipUri);
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

function options(extra: Partial<RegisterOptions> = {}): RegisterOptions {
  return {
    registrar: { host: lab.context.poolFqdn, port },
    sipUri: alice.sipUri,
    caPems: lab.context.ca.chainPems(),
    clientCertificate: { certPem: alice.certPem, keyPem: alice.keyPem },
    lookup: resolver.lookup,
    timeoutMs: 5000,
    ...extra,
  };
}

describe('REGISTER against the lab registrar over real TLS', () => {
  it('publishes its port in the SIP SRV record', async () => {
    const srv = await resolver.resolveSrv(`_sipinternaltls._tcp.${lab.context.domain}`);
    expect(srv).toEqual([expect.objectContaining({ name: lab.context.poolFqdn, port })]);
  });

  it('registers a user whose certificate the lab CA issued, with provisioning values', async () => {
    const result = await registerWithRegistrar(options());
    expect(result.sipUri).toBe(alice.sipUri);
    expect(result.expires).toBe(3600);
    expect(result.provisioning).toEqual({
      registrarFqdn: lab.context.poolFqdn,
      deviceUpdateInternalUrl: `${lab.context.httpsBase}/RequestHandler/ucdevice.upx`,
      deviceUpdateExternalUrl: `${lab.context.httpsBase}/RequestHandlerExt/ucdevice.upx`,
      enforcePinLock: true,
      minPinLength: 5,
      phoneTimeoutSeconds: 600,
    });
    expect(result.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    // Authenticated with TLS-DSK inside SIP (the outer TLS asks for no certificate).
    expect(result.securityAssociation).toMatchObject({ protocol: 'TLS-DSK', innerTls: 'TLSv1.2', cipher: expect.stringMatching(/^TLS_RSA_WITH_AES_(128|256)_CBC_SHA$/) });
  });

  it('answers no certificate with 401 naming the CertProv URL in sts-uri', async () => {
    const e = await failure(registerWithRegistrar(options({ clientCertificate: undefined })));
    expect(e.code).toBe('REGISTRAR_CERT_REQUIRED');
    expect(e.stage).toBe('logon');
    expect(e.detail.stsUri).toBe(`${lab.context.httpsBase}/CertProv/CertProvisioningService.svc`);
    expect(e.detail.schemes).toBe('TLS-DSK');
  });

  it('answers a certificate from another CA, presented in the TLS-DSK handshake, with 401: REGISTRAR_CERT_REJECTED', async () => {
    const stranger = issue({ cn: alice.sipUri, key: testKey(0), issuer: issue({ cn: 'Stranger CA', key: testKey(1), ca: true }) });
    const e = await failure(registerWithRegistrar(options({ clientCertificate: { certPem: stranger.pem, keyPem: stranger.keyPem } })));
    expect(e.code).toBe('REGISTRAR_CERT_REJECTED');
    expect(e.detail.status).toBe(401);
    expect(String(e.detail.diagnostics)).toMatch(/^1006;reason="The client certificate is not trusted/);
  });

  it('refuses to offer an RSA-1024 user certificate: REGISTRAR_KEY_TOO_SMALL (TLS security is not lowered)', async () => {
    const { csrPem, keyPem } = makeCsr(alice.sipUri, 1024);
    const certPem = lab.context.ca.issueFromCsr(csrPem, alice.sipUri, 24);
    const e = await failure(registerWithRegistrar(options({ clientCertificate: { certPem, keyPem } })));
    expect(e.code).toBe('REGISTRAR_KEY_TOO_SMALL');
    expect(e.stage).toBe('logon');
    expect(e.message).toContain('2048-bit');
  });

  it("refuses another user's certificate with 403", async () => {
    const e = await failure(registerWithRegistrar(options({ clientCertificate: { certPem: bob.certPem, keyPem: bob.keyPem } })));
    expect(e.code).toBe('REGISTRAR_FORBIDDEN');
    expect(String(e.detail.diagnostics)).toContain('another user');
  });

  it('refuses an unknown user and a locked account with 403', async () => {
    const mallory = enrol(`sip:mallory@${lab.context.domain}`);
    const e = await failure(registerWithRegistrar(options({ sipUri: mallory.sipUri, clientCertificate: { certPem: mallory.certPem, keyPem: mallory.keyPem } })));
    expect(e.code).toBe('REGISTRAR_FORBIDDEN');
    lab.context.faults.set('account-locked', true);
    try {
      expect((await failure(registerWithRegistrar(options()))).code).toBe('REGISTRAR_FORBIDDEN');
    } finally {
      lab.context.faults.set('account-locked', false);
    }
  });

  it('maps registrar-unreachable to "Unable to contact Registrar" [S13], and recovers when it clears', async () => {
    lab.context.faults.set('registrar-unreachable', true);
    // The listener closes asynchronously; the first attempt after that sees a refused connection.
    let e: TetherError | undefined;
    for (let i = 0; i < 50 && e?.detail.nodeCode !== 'ECONNREFUSED'; i++) e = await failure(registerWithRegistrar(options()));
    lab.context.faults.set('registrar-unreachable', false);
    expect(e!.code).toBe('REGISTRAR_UNREACHABLE');
    expect(e!.message).toContain('Unable to contact Registrar for authentication');
    expect(e!.cmdlet).toContain('Test-CsClientAuth');
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) ok = await registerWithRegistrar(options()).then(() => true, () => false);
    expect(ok).toBe(true);
  });

  it('fails TLS when the registrar presents a certificate for another name', async () => {
    lab.context.faults.set('server-cert-wrong-name', true);
    try {
      const e = await failure(registerWithRegistrar(options()));
      expect(e.code).toBe('REGISTRAR_TLS_FAILED');
      expect(e.detail.nodeCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      lab.context.faults.set('server-cert-wrong-name', false);
    }
  });

  it('times out on a registrar that accepts but never answers', async () => {
    const silent: Server = createTlsServer(lab.context.tls.current(), () => undefined);
    const open = new Set<Socket>();
    silent.on('connection', (s: Socket) => {
      open.add(s);
      s.once('close', () => open.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentPort = (silent.address() as { port: number }).port;
      const e = await failure(registerWithRegistrar(options({ registrar: { host: lab.context.poolFqdn, port: silentPort }, timeoutMs: 400 })));
      expect(e.code).toBe('REGISTRAR_TIMEOUT');
    } finally {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
