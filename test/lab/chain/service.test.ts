import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePkcs7Certificates } from '../../../common/pool/chain/pkcs7';
import { startLab, type LabHandle } from '../../../lab';
import { chainService, prefersPem } from '../../../lab/chain/service';
import { tempDir } from '../support';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;

beforeAll(async () => {
  tmp = tempDir();
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), services: [chainService] });
});
afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

/** A raw GET to the lab's HTTP listener by address (Host names the pool). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: lab.httpPort, path, headers: { host: lab.context.poolFqdn, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const PATH = '/CertProv/CertProvisioningService.svc';

describe('lab chain download', () => {
  it('answers PKCS#7 with intermediate and root by default', async () => {
    const res = await get(`${PATH}?op=GetCertChain`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pkcs7-mime; smime-type=certs-only');
    expect(decodePkcs7Certificates(res.body)).toHaveLength(2);
  });

  it('answers PEM when the client ranks it higher', async () => {
    const res = await get(`${PATH}?op=GetCertChain`, { accept: 'application/pkcs7-mime;q=0.2, application/x-pem-file' });
    expect(res.headers['content-type']).toBe('application/x-pem-file');
    expect(res.body.toString().match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('refuses an unknown operation, and is not served over HTTPS paths of other methods', async () => {
    expect((await get(PATH)).status).toBe(400);
    expect((await get(`${PATH}?op=Other`)).status).toBe(400);
  });

  it('honours chain-download-off and intermediate-missing', async () => {
    lab.context.faults.set('chain-download-off', true);
    const off = await get(`${PATH}?op=GetCertChain`);
    lab.context.faults.set('chain-download-off', false);
    expect(off.status).toBe(403);
    expect(String(off.headers['x-ms-diagnostics'])).toMatch(/^28990;source="pool01\.contoso\.test";reason=".*EnableCertChainDownload/);
    lab.context.faults.set('intermediate-missing', true);
    const rootOnly = await get(`${PATH}?op=GetCertChain`);
    lab.context.faults.set('intermediate-missing', false);
    const certs = decodePkcs7Certificates(rootOnly.body);
    expect(certs).toHaveLength(1);
  });

  it('ranks Accept with q-values', () => {
    expect(prefersPem(undefined)).toBe(false);
    expect(prefersPem('application/x-pem-file')).toBe(true);
    expect(prefersPem('application/x-pem-file;q=0.5, application/pkcs7-mime')).toBe(false);
    expect(prefersPem('application/x-pem-file, application/pkcs7-mime')).toBe(false);
    expect(prefersPem('application/x-pem-file;q=0')).toBe(false);
  });
});
