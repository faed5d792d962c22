import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { startLab, type LabHandle } from '../../../lab';
import { openLabCa } from '../../../lab/ca/ca';
import {
  factsFromPoolBootstrap,
  runExternalPoolBootstrap,
  type ExternalBootstrapOptions,
  type ExternalBootstrapResult,
} from '../../../main/bootstrap/external-bootstrap';
import { runPoolBootstrap } from '../../../main/bootstrap/pool-bootstrap';
import type { StageEvent } from '../../../main/bootstrap/stage-events';
import { makeThrowawayKey } from '../../../main/bootstrap/throwaway-key';
import { ExternalHttpClient, parseInternalSignInFacts, type InternalSignInFacts } from '../../../main/pool/external';
import { PoolHttpClient } from '../../../main/pool/net/http';
import { deviceUpdateIdentity, ImageCache } from '../../../main/pool/update';
import { importDeviceUpdateImage, testImage } from '../../../lab/device-update';
import { createPoolResolver, type PoolResolver } from '../../../main/pool/net/resolver';
import { tempDir } from '../../lab/support';

/**
 * The external path end to end against the lab in `both` view: an internal sign-in yields the
 * facts, then the external path uses only the external DNS view and the external Web Services.
 */

let lab: LabHandle;
let tmp: { dir: string; remove: () => void };
let internal: PoolResolver;
let facts: InternalSignInFacts;
let held: { certPem: string; keyPem: string };
const ALICE = { number: '+14255550101', pin: '13579', sip: 'sip:alice@contoso.test' };
const D = 'contoso.test';
const HTTP = { retry: { attempts: 1 }, timeouts: { connectMs: 3000, idleMs: 5000, totalMs: 10_000 } };

/** The external DNS, recording every name asked (host lookups of sockets included). */
function recordingResolver(server: string): PoolResolver & { asked: Set<string> } {
  const inner = createPoolResolver({ server, tries: 1 });
  const asked = new Set<string>();
  const note = <T>(name: string, p: Promise<T>) => (asked.add(name.toLowerCase()), p);
  return {
    server: inner.server,
    asked,
    resolveSrv: (n) => note(n, inner.resolveSrv(n)),
    resolve4: (n) => note(n, inner.resolve4(n)),
    resolve6: (n) => note(n, inner.resolve6(n)),
    lookup: (hostname, opts, cb) => {
      asked.add(hostname.toLowerCase());
      inner.lookup(hostname, opts, cb);
    },
  };
}

beforeAll(async () => {
  tmp = tempDir('tether-external-');
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), view: 'both' });
  internal = createPoolResolver({ server: lab.dnsServer });
  const key = makeThrowawayKey();
  try {
    const result = await runPoolBootstrap(
      {
        domain: D,
        resolver: internal,
        auth: { kind: 'pin', phoneOrExt: ALICE.number, pin: ALICE.pin },
        httpPort: lab.httpPort,
        httpsPort: lab.httpsPort,
        trust: { rootFingerprints: [lab.ca.rootFingerprint], osRoots: [] },
        httpOptions: HTTP,
        connectTimeoutMs: 3000,
        register: true,
        key,
      },
      () => undefined,
    );
    facts = factsFromPoolBootstrap(result, new Date(), D);
    held = { certPem: result.certificate.certificatePem, keyPem: key.privateKeyPem() };
  } finally {
    key.dispose();
  }
}, 60_000);

afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

afterEach(() => {
  for (const f of lab.context.faults.list()) lab.context.faults.set(f, false);
});

interface Run {
  events: StageEvent[];
  result?: ExternalBootstrapResult;
  error?: TetherError;
  asked: Set<string>;
}

async function runExternal(over: Partial<ExternalBootstrapOptions> = {}): Promise<Run> {
  const resolver = recordingResolver(lab.external!.dnsServer);
  const events: StageEvent[] = [];
  try {
    const result = await runExternalPoolBootstrap(
      { facts, resolver, auth: { kind: 'pin', phoneOrExt: ALICE.number, pin: ALICE.pin }, heldCertificate: held, httpOptions: HTTP, connectTimeoutMs: 3000, registerTimeoutMs: 5000, ...over },
      (e) => events.push(e),
    );
    return { events, result, asked: resolver.asked };
  } catch (err) {
    if (!(err instanceof TetherError)) throw err;
    return { events, error: err, asked: resolver.asked };
  }
}

const trail = (events: StageEvent[]) => events.filter((e) => e.type !== 'stage-progress').map((e) => `${e.stage}:${e.type.replace('stage-', '')}`);

/** The journal's JSON shape (main/journal/types.ts): the facts must be assignable to it. */
type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
type JsonObject = { readonly [key: string]: JsonValue };

describe('internal sign-in facts', () => {
  it('are a JSON object with no field named like a secret (the journal refuses those)', () => {
    const asJson: JsonObject = facts;
    const keys: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) {
        for (const [k, x] of Object.entries(v)) {
          keys.push(k);
          walk(x);
        }
      }
    };
    walk(asJson);
    for (const k of keys) expect(k).not.toMatch(/pin$|password|secret|ticket$|token|credential|private/i);
  });

  it('name the external Device Update URL, the external Web Services, the chain and the certificate', () => {
    const ext = lab.external!;
    expect(facts).toMatchObject({
      format: 'tether-internal-sign-in/1',
      domain: D,
      sipUri: ALICE.sip,
      authMethod: 'pin',
      deviceUpdateExternalUrl: `${ext.httpsBase}/RequestHandlerExt/ucdevice.upx`,
      webServices: { externalFqdn: `lyncext.${D}`, externalUrl: `${ext.httpsBase}/CertProv/CertProvisioningService.svc` },
      chain: { rootFingerprint: lab.ca.rootFingerprint },
    });
    expect(facts.chain.fingerprints).toHaveLength(2);
    expect(facts.certificate?.thumbprint).toMatch(/^[0-9A-F]{40}$/);
    // Plain JSON, no secret: it survives a round trip through the journal's text.
    const back = parseInternalSignInFacts(JSON.parse(JSON.stringify(facts)));
    expect(back).toEqual(facts);
    expect(JSON.stringify(facts)).not.toContain(ALICE.pin);
    expect(JSON.stringify(facts)).not.toContain('PRIVATE KEY');
  });

  it('refuses tampered facts with a typed error', () => {
    const copy = () => JSON.parse(JSON.stringify(facts)) as Record<string, unknown> & { chain: { fingerprints: string[] } };
    const c = copy();
    c.chain.fingerprints = [...c.chain.fingerprints].reverse();
    expect(() => parseInternalSignInFacts(c)).toThrow(expect.objectContaining({ code: 'EXTERNAL_FACTS_INVALID' }));
    expect(() => parseInternalSignInFacts({ ...copy(), format: 'other' })).toThrow(expect.objectContaining({ code: 'EXTERNAL_FACTS_INVALID' }));
    expect(() => parseInternalSignInFacts('nope')).toThrow(expect.objectContaining({ code: 'EXTERNAL_FACTS_INVALID' }));
  });
});

describe('runExternalPoolBootstrap against the lab (external view only)', () => {
  it('signs in from outside with only external DNS answers and TLS to the external Web Services', async () => {
    const r = await runExternal();
    expect(r.error).toBeUndefined();
    expect(trail(r.events)).toEqual([
      'find-update:start', 'find-update:end',
      'check-update:start', 'check-update:end',
      'registrar:start', 'registrar:end',
      'ca-chain:start', 'ca-chain:end',
      'auth:start', 'auth:end',
      'certificate:start', 'certificate:end',
      'logon:start', 'logon:end',
    ]);
    const res = r.result!;
    const ext = lab.external!;
    expect(res.deviceUpdate).toMatchObject({ fqdn: `lyncext.${D}`, addresses: ['127.0.0.1'] });
    expect(res.update).toMatchObject({ authenticated: true, certificate: 'internal-sign-in' });
    expect(res.discovery.registrar).toMatchObject({ host: `sip.${D}`, port: lab.endpoints.registrarPort, step: 5, transport: 'tls' });
    expect(res.discovery.candidates.map((c) => c.step)).toEqual([5, 6, 9, 8]);
    expect(res.discovery.webServices).toEqual({ url: facts.webServices.externalUrl, source: 'internal-sign-in' });
    expect(res.chain).toMatchObject({ rootFingerprint: lab.ca.rootFingerprint, trust: 'internal-sign-in', server: `lyncext.${D}:${ext.httpsPort}` });
    expect(res.auth.webTicketUrl.startsWith(ext.httpsBase)).toBe(true);
    expect(res.auth.certProvUrl.startsWith(ext.httpsBase)).toBe(true);
    expect(res.certificate.subject).toContain(ALICE.sip);
    expect(res.logon).toMatchObject({ registrar: `sip.${D}:${lab.endpoints.registrarPort}`, sipUri: ALICE.sip });
    // Nothing internal was asked for: the external view knows no such names anyway.
    for (const name of r.asked) expect(name).not.toMatch(/^(pool01|ucupdates-r2|sipinternal|_sipinternal)/);
    expect(r.asked.has(`_sip._tls.${D}`)).toBe(true);
    expect(JSON.stringify(r.events)).not.toContain(ALICE.pin);
  }, 30_000);

  it('offers an update with its ExternalBaseURL on the external Web Services, downloadable over TLS only', async () => {
    const data = await testImage('external', 32 * 1024);
    await importDeviceUpdateImage(lab.context.stateDir, { vendor: 'HP', model: 'HP4120', revision: 'A', locale: 'ENU', version: '4.0.7577.4998', data, approve: true });
    const r = await runExternal({ phone: { model: 'HP4120' }, register: false });
    expect(r.error).toBeUndefined();
    const update = r.result!.update;
    expect(update.offered).toMatchObject([{ fileName: 'CPE.nbt', version: '4.0.7577.4998', size: data.length }]);
    expect(update.baseUrl!.startsWith(`${lab.external!.httpsBase}/RequestHandlerExt/Files/`)).toBe(true);
    const dir = tempDir('tether-external-cache-');
    const http = new ExternalHttpClient({ resolver: createPoolResolver({ server: lab.external!.dnsServer }), extraCaPems: facts.chain.pems, baseRoots: [], ...HTTP });
    try {
      const model = { vendor: 'HP', id: 'HP4120', hardwareRevision: 'A', locale: 'ENU' };
      const identity = deviceUpdateIdentity(model, { serial: 'SN-EXT', mac: '02-00-00-00-00-01', runningVersion: '4.0.7577.4455' });
      const got = await new ImageCache(dir.dir).get(identity, update.offered[0]!, update.baseUrl!, { http });
      expect(got).toMatchObject({ size: data.length, via: 'download' });
    } finally {
      http.close();
      dir.remove();
    }
  }, 30_000);

  it('Windows (NTLM) sign-in works through the external Web Services too (one TLS connection per handshake)', async () => {
    const r = await runExternal({
      auth: { kind: 'ntlm', domain: 'CONTOSO', username: 'bob', password: 'Lab-Bob-2026!' },
      sipUri: 'sip:bob@contoso.test',
      heldCertificate: null,
      register: false,
    });
    expect(r.error).toBeUndefined();
    expect(r.result!.auth).toMatchObject({ sipUri: 'sip:bob@contoso.test', method: 'ntlm' });
    expect(r.result!.auth.webTicketUrl.startsWith(lab.external!.httpsBase)).toBe(true);
    expect(JSON.stringify(r.events)).not.toContain('Lab-Bob-2026!');
  }, 30_000);

  it('without the internal sign-in certificate at hand, checks for updates after stage 8 with the new one', async () => {
    const r = await runExternal({ heldCertificate: null, register: false });
    expect(r.error).toBeUndefined();
    expect(trail(r.events).filter((t) => t.endsWith(':end'))).toEqual(['find-update:end', 'registrar:end', 'ca-chain:end', 'auth:end', 'certificate:end', 'check-update:end']);
    expect(r.result!.update).toMatchObject({ authenticated: true, certificate: 'this-run' });
  }, 30_000);

  it('without facts fails at stage 3 with EXTERNAL_NEEDS_INTERNAL_SIGN_IN and asks nothing', async () => {
    for (const missing of [null, undefined]) {
      const r = await runExternal({ facts: missing, phone: { serial: 'SN-OUTSIDE' } });
      expect(r.error).toMatchObject({ code: 'EXTERNAL_NEEDS_INTERNAL_SIGN_IN', stage: 'find-update', detail: { serial: 'SN-OUTSIDE' } });
      expect(r.error!.fix).toMatch(/corporate network/);
      expect(trail(r.events)).toEqual(['find-update:start', 'find-update:failed']);
      expect(r.asked.size).toBe(0);
    }
  });

  it('refuses plain-HTTP external addresses before any socket', async () => {
    const plain = { ...facts, deviceUpdateExternalUrl: facts.deviceUpdateExternalUrl.replace('https:', 'http:') };
    const r = await runExternal({ facts: plain });
    expect(r.error).toMatchObject({ code: 'EXTERNAL_PLAIN_HTTP_REFUSED', stage: 'find-update' });
    expect(r.asked.size).toBe(0);
    const client = new ExternalHttpClient({ extraCaPems: facts.chain.pems, baseRoots: [] });
    try {
      await expect(client.request({ url: `http://lyncext.${D}:${lab.external!.httpsPort}/WebTicket/WebTicketService.svc/mex`, stage: 'auth' })).rejects.toMatchObject({
        code: 'EXTERNAL_PLAIN_HTTP_REFUSED',
        stage: 'auth',
      });
    } finally {
      client.close();
    }
  });

  it('the external listener itself refuses plain HTTP (no answer, connection closed)', async () => {
    const resolver = createPoolResolver({ server: lab.external!.dnsServer, tries: 1 });
    const client = new PoolHttpClient({ resolver, ...HTTP });
    try {
      const err = await client.request({ url: `http://lyncext.${D}:${lab.external!.httpsPort}/WebTicket/WebTicketService.svc/mex`, stage: 'auth' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TetherError);
      expect((err as TetherError).code).toMatch(/^HTTP_/);
    } finally {
      client.close();
    }
  });

  it('a certificate at hand that is not the internal sign-in\'s is refused at stage 4', async () => {
    const r = await runExternal({ heldCertificate: { certPem: lab.ca.rootCertPem, keyPem: held.keyPem } });
    expect(r.error).toMatchObject({ code: 'EXTERNAL_FACTS_INVALID', stage: 'check-update' });
    expect(trail(r.events)).toEqual(['find-update:start', 'find-update:end', 'check-update:start', 'check-update:failed']);
  });

  it('a locked account: the external Device Update refuses the certificate too', async () => {
    lab.context.faults.set('account-locked', true);
    const r = await runExternal();
    expect(r.error).toMatchObject({ code: 'EXTERNAL_UPDATE_CERT_REFUSED', stage: 'check-update' });
  });

  it('facts whose chain is not the pool\'s: EXTERNAL_CHAIN_CHANGED at stage 6', async () => {
    const other = tempDir('tether-other-ca-');
    try {
      const ca = await openLabCa({ dir: other.dir, domain: 'fabrikam.test' });
      const stale = parseInternalSignInFacts({
        ...JSON.parse(JSON.stringify(facts)),
        chain: {
          rootFingerprint: ca.rootFingerprint,
          fingerprints: ca.chainPems().map((p) => new X509Certificate(p).fingerprint256),
          pems: ca.chainPems(),
        },
      });
      const r = await runExternal({ facts: stale, heldCertificate: null });
      expect(r.error).toMatchObject({ code: 'EXTERNAL_CHAIN_CHANGED', stage: 'ca-chain' });
    } finally {
      other.remove();
    }
  }, 30_000);
});
