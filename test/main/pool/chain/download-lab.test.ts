import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../../lab';
import { chainService } from '../../../../lab/chain/service';
import { chainPems, downloadChainDocument, obtainPoolChain, type ObtainChainOptions } from '../../../../main/pool/chain';
import { PoolHttpClient } from '../../../../main/pool/net/http';
import { createPoolResolver, type PoolResolver } from '../../../../main/pool/net/resolver';
import { openssl, tempDir } from '../../../lab/support';
import { failureOf as failure } from '../../../support/failure';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;
let resolver: PoolResolver;
let http: PoolHttpClient;

beforeAll(async () => {
  tmp = tempDir();
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), services: [chainService] });
  resolver = createPoolResolver({ server: lab.dnsServer });
  http = new PoolHttpClient({ resolver, retry: { attempts: 1 }, timeouts: { connectMs: 5000, idleMs: 5000, totalMs: 10_000 } });
});
afterAll(async () => {
  http?.close();
  await lab?.stop();
  tmp?.remove();
});

function options(extra: Partial<ObtainChainOptions> = {}): ObtainChainOptions {
  const fqdn = lab.context.poolFqdn;
  return {
    pool: { host: fqdn, port: lab.httpPort },
    http,
    lookup: resolver.lookup,
    tlsServer: { host: fqdn, port: lab.httpsPort },
    osRoots: [],
    ...extra,
  };
}

function withFault<T>(fault: 'chain-download-off' | 'intermediate-missing', fn: () => Promise<T>): Promise<T> {
  lab.context.faults.set(fault, true);
  return fn().finally(() => lab.context.faults.set(fault, false));
}

describe('chain download from the lab over HTTP (names through the lab DNS)', () => {
  it('gets the whole chain, checks the pool TLS certificate, and trusts a pinned root', async () => {
    const chain = await obtainPoolChain(options({ pinnedFingerprints: [lab.ca.rootFingerprint] }));
    expect(chain.trust).toBe('pinned');
    expect(chain.rootFingerprint).toBe(lab.ca.rootFingerprint);
    expect(chain.intermediates).toHaveLength(1);
    expect(chain.serverVerified).toBe(true);
    expect(chain.inferredFromTls).toBe(0);
    expect(chain.sourceUrl).toBe(`http://${lab.context.poolFqdn}:${lab.httpPort}/CertProv/CertProvisioningService.svc?op=GetCertChain`);
    expect(chainPems(chain).map((p) => p.replace(/\s+/g, ''))).toEqual(lab.ca.chainPems().map((p) => p.replace(/\s+/g, '')));
  });

  it('trusts a root that is in the (injected) OS store', async () => {
    const chain = await obtainPoolChain(options({ osRoots: [lab.ca.rootCertPem] }));
    expect(chain.trust).toBe('os-store');
  });

  it('refuses an unknown root and hands back its fingerprint for a first-use decision', async () => {
    const e = await failure(obtainPoolChain(options()));
    expect(e.code).toBe('CHAIN_ROOT_UNTRUSTED');
    expect(e.stage).toBe('ca-chain');
    expect(e.detail.fingerprint).toBe(lab.ca.rootFingerprint);
  });

  it('understands the PEM form too', async () => {
    const doc = await downloadChainDocument({ pool: { host: lab.context.poolFqdn, port: lab.httpPort }, http, preferPem: true });
    expect(doc.contentType).toBe('application/x-pem-file');
    expect(doc.certificates).toHaveLength(2);
  });

  it('reports chain-download-off with the troubleshooting text [S10]', async () => {
    const e = await withFault('chain-download-off', () => failure(obtainPoolChain(options({ pinnedFingerprints: [lab.ca.rootFingerprint] }))));
    expect(e.code).toBe('CHAIN_DOWNLOAD_OFF');
    expect(e.message).toContain('Error downloading certificate chain from OCS Registrar');
    expect(e.detail.status).toBe(403);
    expect(e.detail.msDiagnostics).toBe(28990);
    expect(e.cmdlet).toBe('Get-CsWebServiceConfiguration');
  });

  it('reports intermediate-missing as the USB-tethering failure [S36]', async () => {
    await withFault('intermediate-missing', async () => {
      const doc = await downloadChainDocument({ pool: { host: lab.context.poolFqdn, port: lab.httpPort }, http });
      expect(doc.certificates).toHaveLength(1);
      const e = await failure(obtainPoolChain(options({ pinnedFingerprints: [lab.ca.rootFingerprint] })));
      expect(e.code).toBe('CHAIN_INTERMEDIATE_MISSING');
      expect(e.detail.where).toBe('server');
    });
  });

  it('reports a pool that does not answer as "Unable to locate Lync Certificate Web service"', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const e = await failure(downloadChainDocument({ pool: { host: '127.0.0.1', port: closed }, http }));
    expect(e.code).toBe('CHAIN_SERVICE_UNREACHABLE');
    expect(e.detail.transport).toBe('HTTP_CONNECT_REFUSED');
    const notFound = await failure(downloadChainDocument({ pool: { host: 'nowhere.contoso.test', port: lab.httpPort }, http }));
    expect(notFound.code).toBe('CHAIN_SERVICE_UNREACHABLE');
    expect(notFound.detail.transport).toBe('HTTP_DNS_FAILED');
  });

  it('refuses a pool name that cannot be a URL with a typed stage-6 error', async () => {
    for (const pool of ['bad host.contoso.test', 'http://[::1', { host: 'a b' }]) {
      const e = await failure(downloadChainDocument({ pool, http }));
      expect(e.code).toBe('BAD_INPUT');
      expect(e.stage).toBe('ca-chain');
    }
  });

  it('downloads a chain that openssl verifies the pool certificate with', async () => {
    const res = await http.request({ url: `${lab.context.httpBase}/CertProv/CertProvisioningService.svc?op=GetCertChain`, stage: 'ca-chain' });
    writeFileSync(join(tmp.dir, 'chain.p7b'), res.body);
    const printed = openssl(['pkcs7', '-inform', 'DER', '-in', 'chain.p7b', '-print_certs'], tmp.dir);
    expect(printed.ok, printed.out).toBe(true);
    const chain = await obtainPoolChain(options({ pinnedFingerprints: [lab.ca.rootFingerprint] }));
    writeFileSync(join(tmp.dir, 'root.pem'), chain.root.pem);
    writeFileSync(join(tmp.dir, 'intermediates.pem'), chain.intermediates.map((c) => c.pem).join(''));
    writeFileSync(join(tmp.dir, 'leaf.pem'), lab.context.tls.current().cert.split(/(?<=-----END CERTIFICATE-----)/)[0]!.trim() + '\n');
    writeFileSync(join(tmp.dir, 'printed.pem'), printed.out);
    const verified = openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediates.pem', 'leaf.pem'], tmp.dir);
    expect(verified.out.trim()).toBe('leaf.pem: OK');
    expect(openssl(['verify', '-CAfile', 'root.pem', 'intermediates.pem'], tmp.dir).out.trim()).toBe('intermediates.pem: OK');
    // The PKCS#7 as openssl reads it holds the same root.
    expect(openssl(['verify', '-CAfile', 'printed.pem', 'leaf.pem'], tmp.dir).out.trim()).toBe('leaf.pem: OK');
    // And without the intermediate openssl fails the same way Tether does.
    expect(openssl(['verify', '-CAfile', 'root.pem', 'leaf.pem'], tmp.dir).ok).toBe(false);
  });
});
