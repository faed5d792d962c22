import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readdir, readFile, truncate, unlink, writeFile, open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startLab, type LabHandle } from '../../../../lab';
import { deviceUpdateService, importDeviceUpdateImage, testImage, type StoredImage } from '../../../../lab/device-update';
import type { DeviceIdentity } from '../../../../common/pool/device-update-wire';
import { createPoolResolver } from '../../../../main/pool/net/resolver';
import { PoolHttpClient } from '../../../../main/pool/net/http';
import { checkForUpdate, downloadVerified, fetchUpdate, ImageCache, type UpdateHttpOptions } from '../../../../main/pool/update';
import { tempDir } from '../../../lab/support';

const kind = { deviceType: 'UCPhone', vendor: 'Polycom', model: 'CX600', revision: 'A', locale: 'ENU' };
const phone = (n: number, version = '4.0.7577.4366'): DeviceIdentity => ({
  ...kind,
  mac: `00-04-F2-00-00-${n.toString(16).padStart(2, '0')}`,
  serial: `SN${n}`,
  modules: [{ fileName: 'CPE.nbt', version, timestamp: '2013-04-01T00:00:00Z' }],
});
const IMAGE_SIZE = 3 * 1024 * 1024 + 17; // several chunks, odd tail

let lab: LabHandle;
let state: { dir: string; remove: () => void };
let work: { dir: string; remove: () => void };
let http: UpdateHttpOptions;
let service: string;
let image: StoredImage;
const labLog: string[] = [];

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  state = tempDir('tether-du-lab-');
  work = tempDir('tether-du-cache-');
  image = await importDeviceUpdateImage(state.dir, { ...kind, version: '4.0.7577.4420', data: await testImage('4420', IMAGE_SIZE), approve: true });
  lab = await startLab({ stateDir: state.dir, services: [deviceUpdateService], log: (m) => labLog.push(m) });
  const resolver = createPoolResolver({ server: lab.dnsServer, timeoutMs: 1000, tries: 1 });
  http = { http: new PoolHttpClient({ resolver, extraCaPems: [lab.ca.rootCertPem], retry: { attempts: 1 } }) };
  // The phone's way in: ucupdates-r2.<domain>, resolved through the lab's DNS, over verified TLS.
  service = `https://ucupdates-r2.${lab.endpoints.domain}:${lab.httpsPort}/RequestHandler/ucdevice.upx`;
});
afterAll(async () => {
  http?.http.close();
  await lab?.stop();
  state?.remove();
  work?.remove();
});
beforeEach(() => {
  for (const f of ['device-update-500', 'slow-responses'] as const) lab.context.faults.set(f, false);
  labLog.length = 0;
});

const storeFile = () => join(state.dir, 'device-update', 'files', 'UCPhone/Polycom/CX600/A/ENU/4.0.7577.4420/CPE/CPE.nbt');
const storeSignature = () => join(state.dir, 'device-update', 'files', 'UCPhone/Polycom/CX600/A/ENU/4.0.7577.4420/CPE/CPE.cat');
const gets = (file = 'CPE.nbt') => labLog.filter((l) => l.includes('device-update: GET ') && l.includes(`/${file} (`)).length;

describe('Device Update client against the lab handler (real sockets, TLS verified)', () => {
  it('asks with the phone identity, downloads, verifies and caches the approved image', async () => {
    const cache = new ImageCache(join(work.dir, 'c1'));
    const r = await fetchUpdate(service, phone(1), cache, http);
    expect(r.answer.baseUrl).toBe(`${lab.context.httpBase}/RequestHandler/Files/UCPhone/Polycom/CX600/A/ENU/4.0.7577.4420/CPE`);
    expect(r.answer.modules).toEqual([expect.objectContaining({ fileName: 'CPE.nbt', version: '4.0.7577.4420', size: IMAGE_SIZE, sha256: image.sha256 })]);
    const [img] = r.images;
    expect(img).toMatchObject({ via: 'download', size: IMAGE_SIZE });
    expect(img!.path).toBe(join(work.dir, 'c1', 'UCPhone/Polycom/CX600/A/ENU/4.0.7577.4420/CPE/CPE.nbt'));
    expect(createHash('sha256').update(await readFile(img!.path)).digest('hex')).toBe(image.sha256);
    // The signature file comes too, verified, beside the image in the cache.
    expect(r.answer.modules[0]).toMatchObject({ signatureFileName: 'CPE.cat', signatureSize: image.signatureSize, signatureSha256: image.signatureSha256 });
    expect(img!.signature).toEqual({
      path: join(work.dir, 'c1', 'UCPhone/Polycom/CX600/A/ENU/4.0.7577.4420/CPE/CPE.cat'),
      fileName: 'CPE.cat',
      size: image.signatureSize,
      sha256: image.signatureSha256,
      via: 'download',
    });
    expect(Buffer.compare(await readFile(img!.signature.path), await readFile(storeSignature()))).toBe(0);
    expect(cache.signatureDownloads).toBe(1);
    // A phone already on the approved version gets nothing.
    expect((await fetchUpdate(service, phone(2, '4.0.7577.4420'), cache, http)).images).toEqual([]);
  });

  it('many phones at once share ONE download; later ones hit the cache', async () => {
    const cache = new ImageCache(join(work.dir, 'c2'));
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => fetchUpdate(service, phone(10 + i), cache, http)));
    const via = results.map((r) => r.images[0]!.via).sort();
    expect(via.filter((v) => v === 'download')).toHaveLength(1);
    expect(via.filter((v) => v === 'shared')).toHaveLength(7);
    const sigVia = results.map((r) => r.images[0]!.signature.via).sort();
    expect(sigVia.filter((v) => v === 'download')).toHaveLength(1);
    expect(sigVia.filter((v) => v === 'shared')).toHaveLength(7);
    expect(new Set(results.map((r) => r.images[0]!.signature.path)).size).toBe(1);
    expect(cache.downloads).toBe(1);
    expect(cache.signatureDownloads).toBe(1);
    expect(gets()).toBe(1);
    expect(gets('CPE.cat')).toBe(1);
    const later = await fetchUpdate(service, phone(30), cache, http);
    expect(later.images[0]!.via).toBe('cache');
    expect(later.images[0]!.signature.via).toBe('cache');
    expect(gets()).toBe(1);
    expect(gets('CPE.cat')).toBe(1);
    expect((await allFiles(join(work.dir, 'c2'))).filter((f) => f.includes('.part-'))).toEqual([]);
    // A cached copy that was damaged on disk is fetched again, never handed out.
    const fh = await open(later.images[0]!.path, 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, 100);
    await fh.close();
    const again = (await fetchUpdate(service, phone(31), cache, http)).images[0]!;
    expect([again.via, again.signature.via]).toEqual(['download', 'cache']);
    expect(cache.downloads).toBe(2);
    // Likewise a damaged cached signature file: only it is fetched again.
    await writeFile(again.signature.path, 'tampered');
    const third = (await fetchUpdate(service, phone(32), cache, http)).images[0]!;
    expect([third.via, third.signature.via]).toEqual(['cache', 'download']);
    expect([cache.downloads, cache.signatureDownloads]).toEqual([2, 2]);
    expect(Buffer.compare(await readFile(third.signature.path), await readFile(storeSignature()))).toBe(0);
  });

  it('a damaged, truncated or missing signature file in the store is a typed check-update error; no bad copy is cached', async () => {
    const original = await readFile(storeSignature());
    const sigInCache = (dir: string) => allFiles(dir).then((fs) => fs.filter((f) => /CPE\.cat/.test(f)));
    try {
      const damaged = Buffer.from(original);
      damaged[0]! ^= 0x01;
      await writeFile(storeSignature(), damaged);
      const c5 = join(work.dir, 'c5');
      await expect(fetchUpdate(service, phone(43), new ImageCache(c5), http)).rejects.toMatchObject({ code: 'UPDATE_SIGNATURE_HASH_MISMATCH', stage: 'check-update' });
      expect(await sigInCache(c5)).toEqual([]);
      await truncate(storeSignature(), 3);
      await expect(fetchUpdate(service, phone(44), new ImageCache(c5), http)).rejects.toMatchObject({ code: 'UPDATE_SIGNATURE_SIZE_MISMATCH', stage: 'check-update' });
      await unlink(storeSignature());
      await expect(fetchUpdate(service, phone(45), new ImageCache(c5), http)).rejects.toMatchObject({
        code: 'UPDATE_SIGNATURE_MISSING',
        stage: 'check-update',
        detail: { status: 404, url: expect.stringMatching(/\/CPE\.cat$/) },
      });
      expect(await sigInCache(c5)).toEqual([]);
      // The verified image stays cached; once the store is whole again only the signature is fetched.
      await writeFile(storeSignature(), original);
      const cache = new ImageCache(c5);
      const ok = (await fetchUpdate(service, phone(46), cache, http)).images[0]!;
      expect([ok.via, ok.signature.via]).toEqual(['cache', 'download']);
    } finally {
      await writeFile(storeSignature(), original);
    }
  });

  it('a store file damaged mid-image fails its SHA-256 and leaves nothing in the cache', async () => {
    const original = await readFile(storeFile());
    const damaged = Buffer.from(original);
    damaged[Math.floor(damaged.length / 2)]! ^= 0x01;
    await writeFile(storeFile(), damaged);
    try {
      const cache = new ImageCache(join(work.dir, 'c3'));
      await expect(fetchUpdate(service, phone(40), cache, http)).rejects.toMatchObject({ code: 'UPDATE_IMAGE_HASH_MISMATCH', stage: 'check-update' });
      expect(await allFiles(join(work.dir, 'c3'))).toEqual([]);
    } finally {
      await writeFile(storeFile(), original);
    }
  });

  it('a truncated store file is a size mismatch; a missing one is UPDATE_IMAGE_MISSING', async () => {
    const original = await readFile(storeFile());
    try {
      await truncate(storeFile(), 1000);
      await expect(fetchUpdate(service, phone(41), new ImageCache(join(work.dir, 'c4')), http)).rejects.toMatchObject({ code: 'UPDATE_IMAGE_SIZE_MISMATCH' });
      await unlink(storeFile());
      await expect(fetchUpdate(service, phone(42), new ImageCache(join(work.dir, 'c4')), http)).rejects.toMatchObject({ code: 'UPDATE_IMAGE_MISSING' });
      expect(await allFiles(join(work.dir, 'c4'))).toEqual([]);
    } finally {
      await writeFile(storeFile(), original);
    }
  });

  it('device-update-500 gives UPDATE_SERVICE_ERROR; the external handler refuses anonymous phones', async () => {
    lab.context.faults.set('device-update-500', true);
    await expect(checkForUpdate(service, phone(50), http)).rejects.toMatchObject({ code: 'UPDATE_SERVICE_ERROR', detail: { status: 500 } });
    lab.context.faults.set('device-update-500', false);
    const external = `https://ucupdates-r2.${lab.endpoints.domain}:${lab.httpsPort}/RequestHandlerExt/ucdevice.upx`;
    await expect(checkForUpdate(external, phone(51), http)).rejects.toMatchObject({ code: 'UPDATE_ANONYMOUS_DENIED', stage: 'check-update' });
  });

  it('slow-responses delays the answer past a short client timeout', async () => {
    lab.context.faults.slowMs = 300;
    lab.context.faults.set('slow-responses', true);
    await expect(checkForUpdate(service, phone(52), { ...http, timeouts: { idleMs: 100 } })).rejects.toMatchObject({ code: 'HTTP_TIMEOUT', stage: 'find-update' });
  });

  it('without the lab CA the TLS check fails (verification is never switched off)', async () => {
    const noLabCa = new PoolHttpClient({ resolver: createPoolResolver({ server: lab.dnsServer }) });
    await expect(checkForUpdate(service, phone(53), { http: noLabCa })).rejects.toMatchObject({ code: 'TLS_CERT_UNTRUSTED', stage: 'find-update' });
    noLabCa.close();
  });
});

describe('streaming checks against a misbehaving file server', () => {
  let server: Server;
  let base: string;
  const plain: UpdateHttpOptions = { http: new PoolHttpClient({ retry: { attempts: 1 } }) };
  const body = Buffer.alloc(256 * 1024, 7);
  const sha = createHash('sha256').update(body).digest('hex');
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/more') {
        // No Content-Length: the client must stop as soon as the stream passes the announced size.
        res.writeHead(200);
        res.write(body);
        res.end(body);
      } else if (req.url === '/cut') {
        res.writeHead(200, { 'Content-Length': String(body.length) });
        res.write(body.subarray(0, 1000), () => res.socket?.destroy());
      } else if (req.url === '/teapot') {
        res.writeHead(418).end();
      } else {
        res.writeHead(200, { 'Content-Length': String(body.length) }).end(body);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    plain.http.close();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('stops a stream that runs past the announced size', async () => {
    await expect(downloadVerified(new URL(`${base}/more`), { size: body.length, sha256: sha }, join(work.dir, 's', 'more'), plain)).rejects.toMatchObject({
      code: 'UPDATE_IMAGE_SIZE_MISMATCH',
      message: expect.stringMatching(/more than/),
    });
  });
  it('reports a connection cut mid-image as cut short', async () => {
    await expect(downloadVerified(new URL(`${base}/cut`), { size: body.length, sha256: sha }, join(work.dir, 's', 'cut'), plain)).rejects.toMatchObject({
      code: 'UPDATE_IMAGE_SIZE_MISMATCH',
    });
  });
  it('refuses a Content-Length that disagrees before reading the body', async () => {
    await expect(downloadVerified(new URL(`${base}/ok`), { size: body.length + 1, sha256: sha }, join(work.dir, 's', 'len'), plain)).rejects.toMatchObject({
      code: 'UPDATE_IMAGE_SIZE_MISMATCH',
    });
  });
  it('maps other statuses and refused connections to typed errors', async () => {
    await expect(downloadVerified(new URL(`${base}/teapot`), { size: 1, sha256: sha }, join(work.dir, 's', 't'), plain)).rejects.toMatchObject({ code: 'UPDATE_SERVICE_ERROR' });
    await expect(checkForUpdate('http://127.0.0.1:1/RequestHandler/ucdevice.upx', phone(60), plain)).rejects.toMatchObject({ code: 'UPDATE_SERVICE_UNREACHABLE', stage: 'find-update' });
    await expect(checkForUpdate('ucupdates-r2 contoso test', phone(61), plain)).rejects.toMatchObject({ code: 'BAD_INPUT', stage: 'find-update' });
  });
  it('uses the signature codes when the file is a signature', async () => {
    const sig = (url: string, size: number, sha256 = sha) => downloadVerified(new URL(`${base}${url}`), { size, sha256, kind: 'signature' }, join(work.dir, 's', 'sig'), plain);
    await expect(sig('/more', body.length)).rejects.toMatchObject({ code: 'UPDATE_SIGNATURE_SIZE_MISMATCH', stage: 'check-update' });
    await expect(sig('/cut', body.length)).rejects.toMatchObject({ code: 'UPDATE_SIGNATURE_SIZE_MISMATCH' });
    await expect(sig('/ok', body.length, '0'.repeat(64))).rejects.toMatchObject({ code: 'UPDATE_SIGNATURE_HASH_MISMATCH', stage: 'check-update' });
    expect(await allFiles(join(work.dir, 's'))).toEqual([]);
  });
  it('checks free space before a download: too little is UPDATE_NO_SPACE, and nothing is requested or written', async () => {
    let asked = 0;
    const room = (free: number): UpdateHttpOptions => ({ ...plain, freeBytes: async () => (asked++, free) });
    const before = (await allFiles(join(work.dir, 's'))).length;
    await expect(downloadVerified(new URL(`${base}/teapot`), { size: body.length, sha256: sha }, join(work.dir, 's', 'room'), room(body.length - 1))).rejects.toMatchObject({
      code: 'UPDATE_NO_SPACE',
      stage: 'check-update',
    });
    expect(asked).toBe(1);
    // /teapot would have answered 418 (UPDATE_SERVICE_ERROR): the space check came first.
    expect((await allFiles(join(work.dir, 's'))).length).toBe(before);
  });

  it('downloads a good file and leaves no temporary behind', async () => {
    await downloadVerified(new URL(`${base}/ok`), { size: body.length, sha256: sha }, join(work.dir, 's', 'ok'), plain);
    expect((await readFile(join(work.dir, 's', 'ok'))).equals(body)).toBe(true);
    expect((await allFiles(join(work.dir, 's'))).map((f) => f.split('/').pop())).toEqual(['ok']);
  });
});
