import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../../main/cli';
import { parseAccount } from '../../../../main/cli/commands/test-auth';
import { startNtlmServer, type NtlmTestServer } from '../../pool/auth/ntlm-server';
import { ThrowawayCa } from '../../../support/throwaway-pki';
import { captureIO as io } from '../capture-io';

const POOL = 'pool01.contoso.test';
let server: NtlmTestServer;
let dns: UdpSocket;
let dnsPort: number;
let dir: string;
let caFile: string;
const asked: string[] = [];

/** A one-record DNS server on loopback: A pool01.contoso.test → 127.0.0.1, NXDOMAIN otherwise. */
async function startDns(): Promise<void> {
  dns = createSocket('udp4');
  dns.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    asked.push(`${question.type} ${question.name}`);
    const known = question.name.toLowerCase() === POOL && question.type === 'A';
    const answer = dnsPacket.encode({
      type: 'response',
      id: q.id ?? 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3), // rcode 3 = NXDOMAIN
      questions: [question],
      answers: known ? [{ type: 'A', name: question.name, ttl: 60, data: '127.0.0.1' }] : [],
    });
    dns.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => dns.bind(0, '127.0.0.1', resolve));
  dnsPort = dns.address().port;
}

beforeAll(async () => {
  const ca = new ThrowawayCa();
  server = await startNtlmServer({ cert: ca.issue([POOL, '127.0.0.1']), users: { 'CONTOSO\\alice': 'Secret-1' } });
  await startDns();
  dir = mkdtempSync(join(tmpdir(), 'tether-test-auth-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
});

afterAll(async () => {
  await server.close();
  dns.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tether test-auth', () => {
  const url = () => `https://${POOL}:${server.port}/WebTicket/WebTicketService.svc`;

  it('accepts the right password from TETHER_PASSWORD, resolving through --dns, and prints JSON', async () => {
    const t = io({ TETHER_PASSWORD: 'Secret-1' });
    const code = await main(['test-auth', '--url', url(), '--ntlm', 'CONTOSO\\alice', '--dns', `127.0.0.1:${dnsPort}`, '--ca', caFile, '--json'], t);
    expect(code).toBe(0);
    expect(JSON.parse(t.out())).toEqual({ ok: true, url: url(), account: 'CONTOSO\\alice', scheme: 'NTLM', status: 200 });
    expect(asked).toContain(`A ${POOL}`);
  });

  it('asks on the terminal when the environment has no password', async () => {
    const t = io({}, 'Secret-1');
    const code = await main(['test-auth', '--url', `https://127.0.0.1:${server.port}/`, '--ntlm', 'CONTOSO\\alice', '--ca', caFile], t);
    expect(code).toBe(0);
    expect(t.out()).toContain('NTLM sign-in accepted');
  });

  it('exits 1 with NTLM_REJECTED for a wrong password, and never prints the password', async () => {
    const t = io({ TETHER_PASSWORD: 'Wrong-pass' });
    const code = await main(['test-auth', '--url', `https://127.0.0.1:${server.port}/`, '--ntlm', 'CONTOSO\\alice', '--ca', caFile, '--json'], t);
    expect(code).toBe(1);
    const doc = JSON.parse(t.out());
    expect(doc.ok).toBe(false);
    expect(doc.error).toMatchObject({ code: 'NTLM_REJECTED', stage: 'auth' });
    expect(doc.error.fix).toBeTruthy();
    expect(t.out() + t.err()).not.toContain('Wrong-pass');
  });

  it('exits 1 with TLS_CERT_UNTRUSTED without --ca (verification is never off)', async () => {
    const t = io({ TETHER_PASSWORD: 'Secret-1' });
    const code = await main(['test-auth', '--url', `https://127.0.0.1:${server.port}/`, '--ntlm', 'CONTOSO\\alice'], t);
    expect(code).toBe(1);
    expect(t.err()).toContain('TLS_CERT_UNTRUSTED');
  });

  it('exits 1 with HTTP_DNS_FAILED for a name the DNS server does not know', async () => {
    const t = io({ TETHER_PASSWORD: 'Secret-1' });
    const code = await main(['test-auth', '--url', `https://nope.contoso.test:${server.port}/`, '--ntlm', 'CONTOSO\\alice', '--dns', `127.0.0.1:${dnsPort}`, '--json'], t);
    expect(code).toBe(1);
    expect(JSON.parse(t.out()).error.code).toBe('HTTP_DNS_FAILED');
  });

  it('exits 2 for usage errors: missing options, a password on argv, no password source', async () => {
    expect(await main(['test-auth', '--url', 'https://x/'], io())).toBe(2);
    expect(await main(['test-auth', '--url', 'https://x/', '--ntlm', 'C\\u', '--password', 'p'], io())).toBe(2);
    expect(await main(['test-auth', '--url', 'https://x/', '--ntlm', 'C\\u'], io())).toBe(2);
    expect(await main(['test-auth', '--url', 'https://x/', '--ntlm', 'nobody'], io({ TETHER_PASSWORD: 'p' }))).toBe(2);
    expect(await main(['test-auth', '--url', 'https://x/', '--ntlm', 'C\\u', '--ca', join(dir, 'missing.pem')], io({ TETHER_PASSWORD: 'p' }))).toBe(2);
  });

  it('refuses plain http:// with NTLM_NOT_HTTPS and a fix, before asking for the password', async () => {
    const t = io({});
    const code = await main(['test-auth', '--url', `http://127.0.0.1:${server.port}/`, '--ntlm', 'CONTOSO\\alice', '--json'], t);
    expect(code).toBe(1);
    const doc = JSON.parse(t.out());
    expect(doc.error.code).toBe('NTLM_NOT_HTTPS');
    expect(doc.error.fix).toMatch(/https/);
  });

  it('parses DOMAIN\\user and user@domain', () => {
    expect(parseAccount('CONTOSO\\alice')).toEqual({ domain: 'CONTOSO', user: 'alice' });
    expect(parseAccount('alice@contoso.test')).toEqual({ domain: '', user: 'alice@contoso.test' });
    expect(() => parseAccount('\\alice')).toThrow();
  });
});

describe('tether test-auth against a POST-only endpoint', () => {
  it('switches to an empty POST when GET gets 405, and passes on any non-401 answer', async () => {
    const { createServer } = await import('node:http');
    const { NtlmHttpAcceptor } = await import('../../../../common/pool/ntlm');
    const acceptor = new NtlmHttpAcceptor({ nbDomainName: 'CONTOSO', nbComputerName: 'POOL01', dnsDomainName: 'contoso.test', dnsComputerName: POOL }, () => ({ password: 'Secret-1' }));
    const methods: string[] = [];
    const svc = createServer((req, res) => {
      methods.push(req.method ?? '');
      req.resume();
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' });
        res.end();
        return;
      }
      const step = acceptor.step(req.socket, req.headers.authorization);
      if (step.kind === 'authenticated') {
        res.writeHead(400);
        res.end('bad RST');
      } else {
        res.writeHead(401, { 'www-authenticate': step.header });
        res.end();
      }
    });
    await new Promise<void>((resolve) => svc.listen(0, '127.0.0.1', resolve));
    try {
      const port = (svc.address() as { port: number }).port;
      const t = io({ TETHER_PASSWORD: 'Secret-1' });
      const code = await main(['test-auth', '--url', `http://127.0.0.1:${port}/WebTicket/WebTicketService.svc/WebTicketServiceWinNtlm`, '--ntlm', 'CONTOSO\\alice', '--insecure-plain-http-loopback', '--json'], t);
      // The loud flag is loud: people are told what it gives away.
      expect(t.err()).toMatch(/WARNING.*plain http/i);
      expect(code).toBe(0);
      expect(JSON.parse(t.out())).toMatchObject({ ok: true, status: 400 });
      expect(methods).toEqual(['GET', 'POST', 'POST', 'POST']);
    } finally {
      await new Promise<void>((resolve) => svc.close(() => resolve()));
    }
  });
});
