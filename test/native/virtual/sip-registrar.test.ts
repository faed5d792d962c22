import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { makeThrowawayKey } from '../../../main/bootstrap/throwaway-key';
import { createSipRegistrarConnector, registrationErrorCode } from '../../../native/virtual/phone/sip-registrar';
import type { RegistrationAttempt } from '../../../native/virtual';
import { openLabCa } from '../../../lab/ca/ca';
import { tempDir } from '../../lab/support';

let lab: LabHandle;
let tmp: { dir: string; remove: () => void };
let port: number;

beforeAll(async () => {
  tmp = tempDir('tether-sip-registrar-');
  lab = await startLab({ stateDir: join(tmp.dir, 'lab') });
  port = lab.endpoints.registrarPort as number;
});

afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

/**
 * An attempt as the phone makes it: its certificate and key (if any; RSA-2048 unless `keyBits`
 * says otherwise) and its installed chain; `ca` issues the certificate (default the lab's).
 */
function attempt(
  sipUri: string,
  certFor: string | null,
  fqdn = lab.context.poolFqdn,
  ca: Pick<LabHandle['ca'], 'issueFromCsr'> = lab.ca,
  keyBits = 2048,
): RegistrationAttempt {
  const chain = lab.ca.chainPems();
  let cert: { certPem: string; keyPem: string } | null = null;
  if (certFor !== null) {
    const key = makeThrowawayKey(keyBits);
    cert = { certPem: ca.issueFromCsr(key.csrFor(certFor), certFor, 1), keyPem: key.privateKeyPem() };
    key.dispose();
  }
  return {
    sipUri,
    registrar: { fqdn, port },
    certificate: cert ? new Uint8Array(new X509Certificate(cert.certPem).raw) : new Uint8Array(0),
    caChain: chain.map((p) => new Uint8Array(new X509Certificate(p).raw)),
    secureContext: (tls = {}) => createSecureContext({ ca: chain, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}), ...tls }),
  };
}

describe('the virtual phone\'s SIP/TLS registrar connector', () => {
  const connect = () => createSipRegistrarConnector({ dnsServers: [lab.dnsServer], timeoutMs: 5000 });

  it('signs in with TLS-DSK and the phone\'s own certificate, resolving the registrar through the phone\'s DNS', async () => {
    const a = attempt('sip:alice@contoso.test', 'sip:alice@contoso.test');
    // A fake clock half an hour before the certificate ends: the security association then ends
    // sooner than the 3600 s registration, so the phone signs in again 5 minutes before it does.
    const notAfter = new Date(new X509Certificate(a.certificate).validTo).getTime();
    const r = await createSipRegistrarConnector({ dnsServers: [lab.dnsServer], timeoutMs: 5000, now: () => notAfter - 30 * 60_000 })(a);
    // The in-band addresses of the registrar's answer, as the phone then reports them in its status.
    const origin = new URL(lab.context.httpsBase).origin;
    expect(r).toEqual({
      ok: true,
      sipStatus: 200,
      diagnostics: null,
      renewAfterMs: 25 * 60_000,
      provisioning: { registrarFqdn: lab.context.poolFqdn, deviceUpdateInternalUrl: `${origin}/RequestHandler/ucdevice.upx`, deviceUpdateExternalUrl: `${origin}/RequestHandlerExt/ucdevice.upx` },
    });
    // Far from the certificate's end, the registration's own lifetime (less 30 s) comes first.
    const early = await createSipRegistrarConnector({ dnsServers: [lab.dnsServer], timeoutMs: 5000, now: () => notAfter - 5 * 3600_000 })(a);
    expect(early.renewAfterMs).toBe(3570_000);
  });

  it('a certificate from another CA, presented inside TLS-DSK: 401 REGISTRAR_CERT_REJECTED', async () => {
    const other = tempDir('tether-other-ca-');
    try {
      const foreign = await openLabCa({ dir: other.dir, domain: lab.context.domain });
      const r = await connect()(attempt('sip:alice@contoso.test', 'sip:alice@contoso.test', lab.context.poolFqdn, foreign));
      expect(r).toMatchObject({ ok: false, sipStatus: 401 });
      expect(registrationErrorCode(r.diagnostics)).toBe('REGISTRAR_CERT_REJECTED');
    } finally {
      other.remove();
    }
  });

  it('no certificate: 401 with REGISTRAR_CERT_REQUIRED', async () => {
    const r = await connect()(attempt('sip:alice@contoso.test', null));
    expect(r.ok).toBe(false);
    expect(r.sipStatus).toBe(401);
    expect(registrationErrorCode(r.diagnostics)).toBe('REGISTRAR_CERT_REQUIRED');
  });

  it('a certificate for another user: 403 REGISTRAR_FORBIDDEN', async () => {
    const r = await connect()(attempt('sip:alice@contoso.test', 'sip:bob@contoso.test'));
    expect(r.sipStatus).toBe(403);
    expect(registrationErrorCode(r.diagnostics)).toBe('REGISTRAR_FORBIDDEN');
  });

  it('a name the phone\'s DNS does not know, and a refused connection: REGISTRAR_UNREACHABLE', async () => {
    const unknown = await connect()(attempt('sip:alice@contoso.test', null, 'nowhere.contoso.test'));
    expect(unknown).toMatchObject({ ok: false, sipStatus: null });
    expect(registrationErrorCode(unknown.diagnostics)).toBe('REGISTRAR_UNREACHABLE');
    lab.context.faults.set('registrar-unreachable', true);
    try {
      const refused = await connect()(attempt('sip:alice@contoso.test', 'sip:alice@contoso.test'));
      expect(registrationErrorCode(refused.diagnostics)).toBe('REGISTRAR_UNREACHABLE');
    } finally {
      lab.context.faults.set('registrar-unreachable', false);
    }
  });

  it('one connector for several phones trusts each attempt\'s own chain (its reused TLS context is per chain)', async () => {
    const other = tempDir('tether-other-chain-');
    try {
      const foreign = await openLabCa({ dir: other.dir, domain: lab.context.domain });
      const shared = connect();
      expect((await shared(attempt('sip:alice@contoso.test', 'sip:alice@contoso.test'))).ok).toBe(true);
      // A phone whose installed chain is another CA's must not trust the lab's registrar.
      const stranger = { ...attempt('sip:alice@contoso.test', null), caChain: foreign.chainPems().map((p) => new Uint8Array(new X509Certificate(p).raw)) };
      expect(registrationErrorCode((await shared(stranger)).diagnostics)).toBe('REGISTRAR_TLS_FAILED');
      expect((await shared(attempt('sip:alice@contoso.test', 'sip:alice@contoso.test'))).ok).toBe(true);
    } finally {
      other.remove();
    }
  });

  it('a server certificate the phone\'s chain does not accept: REGISTRAR_TLS_FAILED', async () => {
    lab.context.faults.set('server-cert-expired', true);
    try {
      const r = await connect()(attempt('sip:alice@contoso.test', 'sip:alice@contoso.test'));
      expect(registrationErrorCode(r.diagnostics)).toBe('REGISTRAR_TLS_FAILED');
    } finally {
      lab.context.faults.set('server-cert-expired', false);
    }
  });

  it('an RSA-1024 phone key: REGISTRAR_KEY_TOO_SMALL, with TLS security left as it is', async () => {
    const r = await connect()(attempt('sip:alice@contoso.test', 'sip:alice@contoso.test', lab.context.poolFqdn, lab.ca, 1024));
    expect(r).toMatchObject({ ok: false, sipStatus: null });
    expect(registrationErrorCode(r.diagnostics)).toBe('REGISTRAR_KEY_TOO_SMALL');
    expect(r.diagnostics).toContain('2048-bit');
  });

  it('reads the code at the start of diagnostics only', () => {
    expect(registrationErrorCode('REGISTRAR_TIMEOUT: no answer')).toBe('REGISTRAR_TIMEOUT');
    expect(registrationErrorCode('ms-diagnostics: 1002')).toBeNull();
    expect(registrationErrorCode(null)).toBeNull();
  });
});
