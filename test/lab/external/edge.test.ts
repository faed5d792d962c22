import { connect as netConnect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { createPoolResolver, type PoolResolver } from '../../../main/pool/net/resolver';
import { tempDir } from '../support';

let lab: LabHandle;
let external: PoolResolver;
let internal: PoolResolver;
let tmp: { dir: string; remove: () => void };
const D = 'contoso.test';

beforeAll(async () => {
  tmp = tempDir('tether-lab-external-');
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), view: 'both' });
  external = createPoolResolver({ server: lab.external!.dnsServer, tries: 1 });
  internal = createPoolResolver({ server: lab.dnsServer, tries: 1 });
});

afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

/** HTTPS to the edge, trusting only the lab's CA, with the name resolved to the lab host. */
function edgeGet(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: lab.external!.httpsPort,
        servername: lab.external!.fqdn,
        headers: { host: `${lab.external!.fqdn}:${lab.external!.httpsPort}` },
        path,
        method,
        ca: lab.context.ca.chainPems(),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? '<x/>' : undefined);
  });
}

describe('the lab external view (view both)', () => {
  it('answers the external zone: edge names and _sip._tls only', async () => {
    const sip = await external.resolveSrv(`_sip._tls.${D}`);
    expect(sip).toEqual([{ name: `sip.${D}`, port: lab.endpoints.registrarPort, priority: 0, weight: 0 }]);
    for (const name of [`sip.${D}`, `sipexternal.${D}`, lab.external!.fqdn]) expect(await external.resolve4(name)).toEqual(['127.0.0.1']);
    for (const name of [`ucupdates-r2.${D}`, `pool01.${D}`, `sipinternal.${D}`]) await expect(external.resolve4(name)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(external.resolveSrv(`_sipinternaltls._tcp.${D}`)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    // The internal view is unchanged.
    expect(await internal.resolve4(`ucupdates-r2.${D}`)).toEqual(['127.0.0.1']);
    expect((await internal.resolveSrv(`_sipinternaltls._tcp.${D}`))[0]).toMatchObject({ name: `pool01.${D}` });
  });

  it('lists the external endpoints on the first line', () => {
    const ext = lab.endpoints.external!;
    expect(lab.endpoints.view).toBe('both');
    expect(ext).toMatchObject({
      dns: lab.external!.dnsServer,
      webServices: `https://lyncext.${D}:${lab.external!.httpsPort}/CertProv/CertProvisioningService.svc`,
      deviceUpdate: `https://lyncext.${D}:${lab.external!.httpsPort}/RequestHandlerExt/ucdevice.upx`,
      sip: `sip:sip.${D}:${lab.endpoints.registrarPort};transport=tls`,
    });
  });

  it('publishes mex documents that name external URLs only', async () => {
    const certprov = await edgeGet('/CertProv/CertProvisioningService.svc/mex');
    expect(certprov.status).toBe(200);
    const webticket = await edgeGet('/WebTicket/WebTicketService.svc/mex');
    for (const doc of [certprov.body, webticket.body]) {
      expect(doc).toContain(lab.external!.httpsBase);
      expect(doc).not.toContain(`pool01.${D}`);
    }
  });

  it('does not publish the anonymous chain download nor the admin endpoint', async () => {
    expect((await edgeGet('/CertProv/CertProvisioningService.svc?op=GetCertChain')).status).toBe(404);
    expect((await edgeGet('/lab/faults')).status).toBe(404);
  });

  it('refuses an anonymous external Device Update request', async () => {
    const r = await edgeGet('/RequestHandlerExt/ucdevice.upx', 'POST');
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/anonymous/i);
  });

  it('closes a plain-HTTP request on the external port without an HTTP answer', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = netConnect(lab.external!.httpsPort, '127.0.0.1', () =>
        s.write(`GET /WebTicket/WebTicketService.svc/mex HTTP/1.1\r\nHost: ${lab.external!.fqdn}\r\n\r\n`),
      );
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.on('close', () => resolve(text));
      s.on('error', (err) => (text === '' ? resolve('') : reject(err)));
    });
    expect(got).not.toMatch(/^HTTP\//);
  });
});

describe('the lab external view alone', () => {
  it('serves only the external DNS as the lab DNS', async () => {
    const t = tempDir('tether-lab-external-only-');
    const only = await startLab({ stateDir: join(t.dir, 'lab'), view: 'external', services: [] });
    try {
      expect(only.dnsServer).toBe(only.external!.dnsServer);
      const r = createPoolResolver({ server: only.dnsServer, tries: 1 });
      await expect(r.resolve4(`ucupdates-r2.${D}`)).rejects.toMatchObject({ code: 'ENOTFOUND' });
      expect(await r.resolve4(`lyncext.${D}`)).toEqual(['127.0.0.1']);
    } finally {
      await only.stop();
      t.remove();
    }
  });
});
