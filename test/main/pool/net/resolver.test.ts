import { createSocket, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPoolResolver, parseDnsServer } from '../../../../main/pool/net/resolver';

function lookup(server: string, host: string): Promise<{ code?: string; message: string } | string> {
  const r = createPoolResolver({ server, timeoutMs: 200, tries: 1 });
  return new Promise((resolve) =>
    r.lookup(host, {}, (err, address) => resolve(err ? { code: (err as NodeJS.ErrnoException).code, message: err.message } : String(address))),
  );
}

describe('createPoolResolver', () => {
  let silent: Socket;
  let port = 0;
  beforeAll(async () => {
    // A DNS server that never answers: the lookup must say so, not claim the name does not exist.
    silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    port = silent.address().port;
  });
  afterAll(() => silent.close());

  it('answers IP literals without asking DNS', async () => {
    expect(await lookup(`127.0.0.1:${port}`, '127.0.0.7')).toBe('127.0.0.7');
  });

  it('reports a silent DNS server as a temporary failure (EAI_AGAIN), not as ENOTFOUND', async () => {
    const out = await lookup(`127.0.0.1:${port}`, 'pool01.contoso.test');
    expect(out).toMatchObject({ code: 'EAI_AGAIN' });
    expect((out as { message: string }).message).toContain(`127.0.0.1:${port}`);
  });

  it('answers SRV records with exactly the four RFC 2782 fields, whatever Node adds', async () => {
    // A one-answer DNS server on loopback: Node 24 tags each SRV record with `type: 'SRV'`.
    const server = createSocket('udp4');
    server.on('message', (m, from) => {
      const q = dnsPacket.decode(m);
      const answers = [{ name: q.questions![0]!.name, type: 'SRV' as const, ttl: 60, data: { target: 'pool01.contoso.test', port: 5061, priority: 1, weight: 7 } }];
      server.send(dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions, answers }), from.port, from.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
    try {
      const r = createPoolResolver({ server: `127.0.0.1:${server.address().port}`, timeoutMs: 1000, tries: 1 });
      expect(await r.resolveSrv('_sipinternaltls._tcp.contoso.test')).toStrictEqual([{ name: 'pool01.contoso.test', port: 5061, priority: 1, weight: 7 }]);
    } finally {
      server.close();
    }
  });

  it('parses DNS server addresses and refuses bad ones', () => {
    expect(parseDnsServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseDnsServer('[::1]:53')).toEqual({ host: '::1', port: 53 });
    expect(parseDnsServer('dns.example')).toEqual({ host: 'dns.example', port: 53 });
    expect(() => parseDnsServer('127.0.0.1:0')).toThrow(RangeError);
    expect(() => parseDnsServer('127.0.0.1:99999')).toThrow(RangeError);
  });
});
