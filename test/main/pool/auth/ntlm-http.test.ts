import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ntlmHttpRequest, parseAuthenticateOffers } from '../../../../main/pool/auth/ntlm-http';
import { PoolHttpClient } from '../../../../main/pool/net/http';
import { fakeResolver } from '../net/fake-resolver';
import { ThrowawayCa, type TestCert } from '../../../support/throwaway-pki';
import { startNtlmServer, type NtlmTestServer, type NtlmTestServerOptions } from './ntlm-server';
import { failureOf as failure } from '../../../support/failure';

const POOL = 'pool01.contoso.test';
const USERS = { 'CONTOSO\\alice': 'Secret-1' };
let ca: ThrowawayCa;
let cert: TestCert;
const open: { close(): unknown }[] = [];

beforeAll(() => {
  ca = new ThrowawayCa();
  cert = ca.issue([POOL]);
});

afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function setup(options: Partial<NtlmTestServerOptions> = {}): Promise<{ server: NtlmTestServer; http: PoolHttpClient; url: string }> {
  const server = await startNtlmServer({ cert, users: USERS, ...options });
  const http = new PoolHttpClient({ resolver: fakeResolver({ [POOL]: '127.0.0.1' }), extraCaPems: [ca.certPem], sleep: async () => undefined });
  open.push(server, http);
  return { server, http, url: `https://${POOL}:${server.port}/WebTicket/WebTicketService.svc` };
}

describe('NTLM over HTTP (RFC 4559)', () => {
  it('authenticates with the right password, verified by the server for real, on one kept-alive socket', async () => {
    const { server, http, url } = await setup();
    const result = await ntlmHttpRequest(http, { domain: 'CONTOSO', user: 'alice', password: 'Secret-1' }, { url });
    expect(result.response.status).toBe(200);
    expect(result.response.body.toString()).toBe('hello alice');
    expect(result.scheme).toBe('NTLM');
    expect(server.verdicts).toEqual(['ok CONTOSO\\alice']);
    expect(server.sockets.size).toBe(1);
  });

  it('sends a POST body on the authenticated leg', async () => {
    const { server, http, url } = await setup();
    const result = await ntlmHttpRequest(http, { domain: 'contoso', user: 'ALICE', password: Buffer.from('Secret-1') }, { url, method: 'POST', body: '<x/>', headers: { 'content-type': 'text/xml' } });
    expect(result.response.status).toBe(200);
    expect(server.sockets.size).toBe(1);
  });

  it('maps a wrong password to NTLM_REJECTED with the stage and the server\'s diagnostics', async () => {
    const { server, http, url } = await setup({ diagnosticsOnReject: '28020;source="pool01.contoso.test";reason="Bad credentials"' });
    const e = await failure(ntlmHttpRequest(http, { domain: 'CONTOSO', user: 'alice', password: 'wrong' }, { url }));
    expect(e.code).toBe('NTLM_REJECTED');
    expect(e.stage).toBe('auth');
    expect(e.detail).toMatchObject({ msErrorId: 28020, user: 'CONTOSO\\alice' });
    expect(JSON.stringify(e.toJSON())).not.toContain('wrong');
    expect(server.verdicts).toEqual(['rejected bad-proof']);
  });

  it('uses Negotiate with raw NTLM tokens when that is all the server offers', async () => {
    const { http, url } = await setup({ offer: ['Negotiate'] });
    const result = await ntlmHttpRequest(http, { domain: 'CONTOSO', user: 'alice', password: 'Secret-1' }, { url });
    expect(result.scheme).toBe('Negotiate');
  });

  it('reports NTLM_NOT_OFFERED when the server offers only Basic, or needs no authentication', async () => {
    const basic = await setup({ offer: ['Basic realm="pool"'] });
    expect((await failure(ntlmHttpRequest(basic.http, { domain: 'C', user: 'u', password: 'p' }, { url: basic.url }))).code).toBe('NTLM_NOT_OFFERED');
    const server = createServer((_req, res) => res.end('open to all'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const openUrl = `http://${POOL}:${(server.address() as AddressInfo).port}/`;
    const e = await failure(ntlmHttpRequest(basic.http, { domain: 'C', user: 'u', password: 'p' }, { url: openUrl.replace(POOL, '127.0.0.1'), allowPlainHttpOnLoopback: true }));
    expect(e.code).toBe('NTLM_NOT_OFFERED');
    expect(e.detail.status).toBe(200);
  });

  it('refuses plain http before sending anything, unless the caller allows it for a loopback address', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization ?? 'none');
      res.writeHead(401, { 'www-authenticate': 'NTLM' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const port = (server.address() as AddressInfo).port;
    const http = new PoolHttpClient({ resolver: fakeResolver({ [POOL]: '127.0.0.1' }), sleep: async () => undefined });
    open.push(http);
    const creds = { domain: 'CONTOSO', user: 'alice', password: 'Secret-1' };
    for (const url of [`http://${POOL}:${port}/`, `http://127.0.0.1:${port}/`]) {
      const e = await failure(ntlmHttpRequest(http, creds, { url }));
      expect(e.code).toBe('NTLM_NOT_HTTPS');
      expect(e.stage).toBe('auth');
    }
    // The loopback allowance is for an IP-literal loopback address only: a name could resolve anywhere.
    expect((await failure(ntlmHttpRequest(http, creds, { url: `http://${POOL}:${port}/`, allowPlainHttpOnLoopback: true }))).code).toBe('NTLM_NOT_HTTPS');
    expect(seen).toEqual([]);
    // Allowed: the handshake runs (and the server rejects), so the allowance really reached the wire.
    expect((await failure(ntlmHttpRequest(http, creds, { url: `http://127.0.0.1:${port}/`, allowPlainHttpOnLoopback: true }))).code).not.toBe('NTLM_NOT_HTTPS');
    expect(seen.length).toBeGreaterThan(0);
  });

  it('reports NTLM_CONNECTION_LOST when the server drops the connection after its CHALLENGE', async () => {
    const { http, url } = await setup({ dropAfterChallenge: true });
    const e = await failure(ntlmHttpRequest(http, { domain: 'CONTOSO', user: 'alice', password: 'Secret-1' }, { url, stage: 'certificate' }));
    expect(e.code).toBe('NTLM_CONNECTION_LOST');
    expect(e.stage).toBe('certificate');
  });

  it('parses WWW-Authenticate offers, joined or with tokens', () => {
    expect(parseAuthenticateOffers({ 'www-authenticate': 'Negotiate, NTLM' }).map((o) => o.scheme)).toEqual(['Negotiate', 'NTLM']);
    expect(parseAuthenticateOffers({ 'www-authenticate': 'Basic realm="a, b", NTLM TlRMTVNTUAACAAAA' })).toEqual([{ scheme: 'NTLM', token: Buffer.from('TlRMTVNTUAACAAAA', 'base64') }]);
    expect(parseAuthenticateOffers({})).toEqual([]);
  });
});
