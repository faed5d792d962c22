import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { startLab, type FaultName, type LabHandle } from '../../../lab';
import { importDeviceUpdateImage, testImage } from '../../../lab/device-update';
import { runPoolBootstrap, type PoolBootstrapOptions, type PoolBootstrapResult } from '../../../main/bootstrap/pool-bootstrap';
import type { StageEvent } from '../../../main/bootstrap/stage-events';
import { dhcpInform } from '../../../main/pool/discovery/dhcp-inform';
import { PoolHttpClient } from '../../../main/pool/net/http';
import { createPoolResolver, type PoolResolver } from '../../../main/pool/net/resolver';
import { openssl, tempDir } from '../../lab/support';

let lab: LabHandle;
let resolver: PoolResolver;
let tmp: { dir: string; remove: () => void };
const ALICE = { number: '+14255550101', ext: '101', pin: '13579', sip: 'sip:alice@contoso.test' };
const BOB = { number: '+14255550102', pin: '24680', sip: 'sip:bob@contoso.test' };

beforeAll(async () => {
  tmp = tempDir('tether-pool-bootstrap-');
  lab = await startLab({ stateDir: join(tmp.dir, 'lab') });
  resolver = createPoolResolver({ server: lab.dnsServer });
});

afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

afterEach(() => {
  for (const f of lab.context.faults.list()) lab.context.faults.set(f, false);
});

interface Run {
  events: StageEvent[];
  result?: PoolBootstrapResult;
  error?: TetherError;
}

function options(over: Partial<PoolBootstrapOptions> = {}): PoolBootstrapOptions {
  return {
    domain: 'contoso.test',
    resolver,
    auth: { kind: 'pin', phoneOrExt: ALICE.number, pin: ALICE.pin },
    httpPort: lab.httpPort,
    httpsPort: lab.httpsPort,
    trust: { rootFingerprints: [lab.ca.rootFingerprint], osRoots: [] },
    httpOptions: { retry: { attempts: 1 }, timeouts: { connectMs: 3000, idleMs: 5000, totalMs: 10_000 } },
    connectTimeoutMs: 3000,
    registerTimeoutMs: 5000,
    ...over,
  };
}

async function run(over: Partial<PoolBootstrapOptions> = {}, faults: FaultName[] = []): Promise<Run> {
  for (const f of faults) lab.context.faults.set(f, true);
  const events: StageEvent[] = [];
  try {
    const result = await runPoolBootstrap(options(over), (e) => events.push(e));
    return { events, result };
  } catch (err) {
    if (!(err instanceof TetherError)) throw err;
    return { events, error: err };
  }
}

/** start/end/failed events as "stage:type", progress left out. */
const trail = (events: StageEvent[]) => events.filter((e) => e.type !== 'stage-progress').map((e) => `${e.stage}:${e.type.replace('stage-', '')}`);

function expectFailure(r: Run, code: string, stage: string): TetherError {
  expect(r.result).toBeUndefined();
  expect(r.error?.code).toBe(code);
  expect(r.error?.stage).toBe(stage);
  const last = r.events.at(-1)!;
  expect(last).toMatchObject({ type: 'stage-failed', stage, error: { code, stage } });
  // Nothing after the failed stage ran.
  expect(r.events.filter((e) => e.type === 'stage-start').at(-1)!.stage).toBe(stage);
  return r.error!;
}

describe('runPoolBootstrap against the lab', () => {
  it('runs stages 3–8 in order; the issued certificate carries the throw-away key and openssl verifies it', async () => {
    const r = await run();
    expect(r.error).toBeUndefined();
    expect(trail(r.events)).toEqual([
      'find-update:start', 'find-update:end',
      'check-update:start', 'check-update:end',
      'registrar:start', 'registrar:end',
      'ca-chain:start', 'ca-chain:end',
      'auth:start', 'auth:end',
      'certificate:start', 'certificate:end',
    ]);
    const res = r.result!;
    expect(res.deviceUpdate).toMatchObject({ fqdn: 'ucupdates-r2.contoso.test', source: 'dns', addresses: ['127.0.0.1'] });
    expect(res.update.identity).toMatchObject({ vendor: 'Polycom', model: 'CX600' });
    expect(res.discovery.registrar).toMatchObject({ host: 'pool01.contoso.test', step: 1, transport: 'tls' });
    expect(res.discovery.webServices).toEqual({ url: `https://pool01.contoso.test:${lab.httpsPort}/CertProv/CertProvisioningService.svc`, source: 'derived-from-registrar' });
    expect(res.chain).toMatchObject({ rootFingerprint: lab.ca.rootFingerprint, trust: 'pinned-fingerprint', inferredFromTls: 0 });
    expect(res.chain.intermediates).toHaveLength(1);
    expect(res.auth).toMatchObject({ sipUri: ALICE.sip, method: 'pin' });
    expect(res.certificate.subject).toContain('sip:alice@contoso.test');
    expect(res.logon).toBeNull();

    const dir = tempDir('tether-verify-');
    try {
      writeFileSync(join(dir.dir, 'root.pem'), res.chain.pems.at(-1)!);
      writeFileSync(join(dir.dir, 'intermediate.pem'), res.chain.pems.slice(0, -1).join(''));
      writeFileSync(join(dir.dir, 'leaf.pem'), res.certificate.certificatePem);
      const v = openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'leaf.pem'], dir.dir);
      expect(v.out).toContain('leaf.pem: OK');
      expect(v.ok).toBe(true);
      // The root the chain came with is the lab's, byte for byte.
      expect(new X509Certificate(res.chain.pems.at(-1)!).fingerprint256).toBe(lab.ca.rootFingerprint);
    } finally {
      dir.remove();
    }
    // No secret in any event.
    expect(JSON.stringify(r.events)).not.toContain(ALICE.pin);
  });

  it('stages 7–8 trust the pool through the stage-6 chain only: the second HTTP client gets exactly that chain and no other roots', async () => {
    const made: (readonly string[])[] = [];
    const bases: (readonly string[] | undefined)[] = [];
    const r = await run({
      createHttpClient: (o) => {
        made.push(o.extraCaPems ?? []);
        bases.push(o.baseRoots);
        return new PoolHttpClient(o);
      },
    });
    expect(r.error).toBeUndefined();
    expect(made).toEqual([[], r.result!.chain.pems]);
    // Stages 3–6 may use the OS store (an https Device Update URL); 7–8 trust nothing but the chain.
    expect(bases).toEqual([undefined, []]);
    expect(r.result!.chain.pems).toEqual([lab.ca.intermediateCertPem, lab.ca.rootCertPem].map((p) => p.replace(/\r/g, '')));
  });

  it('stage 9 with --register: SIP REGISTER over TLS with the issued certificate', async () => {
    const r = await run({ register: true, auth: { kind: 'pin', phoneOrExt: BOB.number, pin: BOB.pin } });
    expect(r.error).toBeUndefined();
    expect(trail(r.events).slice(-2)).toEqual(['logon:start', 'logon:end']);
    expect(r.result!.logon).toMatchObject({ sipUri: BOB.sip });
    expect(r.result!.logon!.expires).toBeGreaterThan(0);
  });

  it('NTLM sign-in, and the trusted-root file as the trust source', async () => {
    const r = await run({
      auth: { kind: 'ntlm', domain: 'CONTOSO', username: 'carol', password: 'Lab-Carol-2026!' },
      sipUri: 'sip:carol@contoso.test',
      trust: { rootPems: [lab.ca.rootCertPem], osRoots: [] },
    });
    expect(r.error).toBeUndefined();
    expect(r.result!.chain.trust).toBe('trust-root-file');
    expect(r.result!.auth).toMatchObject({ method: 'ntlm', sipUri: 'sip:carol@contoso.test' });
    expect(JSON.stringify(r.events)).not.toContain('Lab-Carol-2026!');
  });

  it('stage 4 reports an approved update and, with download, fetches and verifies it', async () => {
    const data = await testImage('pool-bootstrap', 64 * 1024);
    await importDeviceUpdateImage(lab.context.stateDir, { vendor: 'Polycom', model: 'CX600', revision: 'A', locale: 'ENU', version: '4.0.7577.4999', data, approve: true });
    const r = await run({ download: true });
    expect(r.error).toBeUndefined();
    expect(r.result!.update.offered).toMatchObject([{ fileName: 'CPE.nbt', version: '4.0.7577.4999', size: data.length }]);
    expect(r.result!.update.downloaded).toMatchObject([{ fileName: 'CPE.nbt', version: '4.0.7577.4999', via: 'download' }]);
    // The run's files are gone afterwards, so the result names what was verified, never a path.
    expect(r.result!.update.downloaded[0]!.signature).toMatchObject({ fileName: 'CPE.cat', via: 'download' });
    expect(JSON.stringify(r.result!.update.downloaded)).not.toContain('"path"');
    const end = r.events.find((e) => e.type === 'stage-end' && e.stage === 'check-update');
    expect(end).toMatchObject({ summary: expect.stringContaining('downloaded and verified') });
  });

  it('explicit Device Update and Web Services URLs (in-band / option 43) replace the lookups; the injected clock stamps every event', async () => {
    const fixed = new Date();
    const r = await run({
      now: () => fixed,
      deviceUpdateUrl: `http://127.0.0.1:${lab.httpPort}`,
      webServicesUrl: `https://pool01.contoso.test:${lab.httpsPort}/CertProv/CertProvisioningService.svc`,
    });
    expect(r.error).toBeUndefined();
    expect(r.result!.deviceUpdate).toMatchObject({ source: 'explicit', fqdn: '127.0.0.1', url: `http://127.0.0.1:${lab.httpPort}/RequestHandler/ucdevice.upx` });
    expect(r.result!.discovery.webServices.source).toBe('explicit');
    const stamps = r.events.flatMap((e) => ('at' in e ? [e.at] : []));
    expect(stamps.length).toBe(12);
    expect(new Set(stamps)).toEqual(new Set([fixed.getTime()]));
  });

  it('a clock past the root CA\'s end fails stage 6 with CHAIN_CERT_EXPIRED (the clock reaches the chain check)', async () => {
    const e = expectFailure(await run({ now: () => new Date('2100-01-01T00:00:00Z') }), 'CHAIN_CERT_EXPIRED', 'ca-chain');
    expect(e.detail.role).toBe('root CA');
  });

  const askLabDhcp = () => {
    const [host, port] = (lab.endpoints.dhcp as string).split(':');
    return dhcpInform({ interfaceName: 'lo', server: host!, serverPort: Number(port), noBroadcast: true, clientPort: 0, timeoutMs: 3000 });
  };

  it('with DHCP: option 120 fills steps 2 and 4, option 43 gives the Web Services URL', async () => {
    const r = await run({ askDhcp: askLabDhcp });
    expect(r.error).toBeUndefined();
    const d = r.result!.discovery;
    expect(d.dhcp).toMatchObject({ server: '127.0.0.1', sipServers: ['pool01.contoso.test'] });
    expect(d.webServices).toEqual({ url: `https://pool01.contoso.test:${lab.httpsPort}/CertProv/CertProvisioningService.svc`, source: 'dhcp-option-43' });
    expect(d.candidates.filter((c) => c.source === 'dhcp-option-120').map((c) => [c.step, c.host, c.port, c.status])).toEqual([
      [2, 'pool01.contoso.test', 5061, 'usable'],
      [4, 'pool01.contoso.test', 5060, 'usable'],
    ]);
  });

  it('option43-wrong: DHCP names a retired Web Services FQDN, so stage 6 cannot locate the Certificate Web service', async () => {
    const r = await run({ askDhcp: askLabDhcp }, ['option43-wrong']);
    expect(r.events.find((e) => e.type === 'stage-end' && e.stage === 'registrar')).toMatchObject({ summary: expect.stringContaining('webpool-old.contoso.test') });
    const e = expectFailure(r, 'CHAIN_SERVICE_UNREACHABLE', 'ca-chain');
    expect(e.message).toContain('Unable to locate Lync Certificate Web service');
  });

  it('a silent DHCP server is shown on the DHCP steps and DNS carries on', async () => {
    const r = await run({ askDhcp: () => Promise.reject(new TetherError('DHCP_NO_ANSWER', 'No DHCP answer within 3000 ms.')) });
    expect(r.error).toBeUndefined();
    expect(r.result!.discovery.dhcpProblem).toBe('No DHCP answer within 3000 ms.');
    expect(r.result!.discovery.candidates[1]).toMatchObject({ step: 2, status: 'skipped', reason: expect.stringContaining('No DHCP answer') });
  });

  it('srv-missing: steps 1 and 3 are skipped (NXDOMAIN) and step 5, the external SRV, is chosen; the run still succeeds', async () => {
    const r = await run({}, ['srv-missing']);
    expect(r.error).toBeUndefined();
    const c = r.result!.discovery.candidates;
    expect(c.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(c[0]).toMatchObject({ step: 1, query: '_sipinternaltls._tcp.contoso.test', status: 'skipped', reason: expect.stringContaining('NXDOMAIN') });
    expect(c[1]).toMatchObject({ step: 2, status: 'skipped', reason: expect.stringContaining('DHCP') });
    expect(c[2]).toMatchObject({ step: 3, query: '_sipinternal._tcp.contoso.test', status: 'skipped', reason: expect.stringContaining('NXDOMAIN') });
    expect(c[4]).toMatchObject({ step: 5, query: '_sip._tls.contoso.test', status: 'chosen', host: 'pool01.contoso.test' });
    expect(r.result!.discovery.registrar).toMatchObject({ step: 5, transport: 'tls' });
  });

  it('device-update-500 fails stage 4', async () => {
    expectFailure(await run({}, ['device-update-500']), 'UPDATE_SERVICE_ERROR', 'check-update');
  });

  it('slow-responses past the HTTP timeouts fails the first web stage (4) with HTTP_TIMEOUT', async () => {
    const before = lab.context.faults.slowMs;
    lab.context.faults.slowMs = 1500;
    try {
      const r = await run({ httpOptions: { retry: { attempts: 1 }, timeouts: { connectMs: 1000, idleMs: 250, totalMs: 400 } } }, ['slow-responses']);
      expectFailure(r, 'HTTP_TIMEOUT', 'check-update');
    } finally {
      lab.context.faults.slowMs = before;
    }
  });

  it('chain-download-off fails stage 6', async () => {
    expectFailure(await run({}, ['chain-download-off']), 'CHAIN_DOWNLOAD_OFF', 'ca-chain');
  });

  it('intermediate-missing fails stage 6', async () => {
    expectFailure(await run({}, ['intermediate-missing']), 'CHAIN_INTERMEDIATE_MISSING', 'ca-chain');
  });

  it('an untrusted root without a pin fails stage 6 and carries the fingerprint', async () => {
    const e = expectFailure(await run({ trust: { osRoots: [] } }), 'CHAIN_ROOT_UNTRUSTED', 'ca-chain');
    expect(e.detail.fingerprint).toBe(lab.ca.rootFingerprint);
    expect(e.message).toContain(lab.ca.rootFingerprint);
  });

  it('a wrong pin is the same as none', async () => {
    const e = expectFailure(await run({ trust: { rootFingerprints: ['AB'.repeat(32)], osRoots: [] } }), 'CHAIN_ROOT_UNTRUSTED', 'ca-chain');
    expect(e.detail.fingerprint).toBe(lab.ca.rootFingerprint);
  });

  // Stage 6 is the first to touch the pool's HTTPS (its TLS check against the downloaded chain);
  // stages 3–5 use DNS and plain HTTP, so the certificate faults show there, not in stage 7.
  it('server-cert-expired fails stage 6 (the TLS check), before any credential is sent', async () => {
    const r = await run({}, ['server-cert-expired']);
    const e = expectFailure(r, 'CHAIN_SERVER_MISMATCH', 'ca-chain');
    expect(e.message).toMatch(/expired/i);
  });

  it('server-cert-wrong-name fails stage 6', async () => {
    const e = expectFailure(await run({}, ['server-cert-wrong-name']), 'CHAIN_SERVER_MISMATCH', 'ca-chain');
    expect(e.message).toMatch(/pool01\.contoso\.test|altnames|name/i);
  });

  it('account-locked fails stage 7', async () => {
    expectFailure(await run({}, ['account-locked']), 'WEBTICKET_ACCOUNT_LOCKED', 'auth');
  });

  it('a bad PIN fails stage 7, and the PIN is in no event', async () => {
    const r = await run({ auth: { kind: 'pin', phoneOrExt: '103', pin: '11111' } });
    expectFailure(r, 'WEBTICKET_PIN_REJECTED', 'auth');
    expect(JSON.stringify(r.events)).not.toContain('11111');
    lab.users.unlock(lab.users.bySipUri('sip:carol@contoso.test')!);
  });

  it('publish-store-unavailable fails stage 8', async () => {
    expectFailure(await run({}, ['publish-store-unavailable']), 'CERTPROV_PUBLISH_FAILED', 'certificate');
  });

  it('registrar-unreachable fails stage 9 with --register (stages 3–8 pass)', async () => {
    const r = await run({ register: true }, ['registrar-unreachable']);
    expectFailure(r, 'REGISTRAR_UNREACHABLE', 'logon');
    expect(trail(r.events).filter((t) => t.endsWith(':end'))).toHaveLength(6);
  });

  it('a domain without ucupdates-r2 fails stage 3; a DNS server that refuses the zone is DNS_UNAVAILABLE', async () => {
    expectFailure(await run({ domain: 'eu.contoso.test' }), 'DNS_NO_DEVICE_UPDATE', 'find-update');
    expectFailure(await run({ domain: 'fabrikam.test' }), 'DNS_UNAVAILABLE', 'find-update');
  });

  it('rejects bad input before any stage runs (no event at all)', async () => {
    const events: StageEvent[] = [];
    await expect(runPoolBootstrap(options({ deviceUpdateUrl: 'ftp://x' }), (e) => events.push(e))).rejects.toMatchObject({ code: 'BAD_INPUT', stage: null });
    expect(events).toEqual([]);
    await expect(runPoolBootstrap(options({ domain: 'not a domain' }), () => undefined)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(runPoolBootstrap(options({ phone: { model: 'CX9999' } }), () => undefined)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(runPoolBootstrap(options({ trust: { rootFingerprints: ['xyz'] } }), () => undefined)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(runPoolBootstrap(options({ webServicesUrl: 'http://pool01.contoso.test/CertProv' }), () => undefined)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(runPoolBootstrap(options({ deviceUpdateUrl: 'ftp://x' }), () => undefined)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(runPoolBootstrap(options({ deviceUpdateUrl: 'not a url' }), () => undefined)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(
      runPoolBootstrap(options({ auth: { kind: 'ntlm', domain: 'CONTOSO', username: 'alice', password: 'x' } }), () => undefined),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
