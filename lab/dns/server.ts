import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import { TetherError } from '../../common/errors';
import { DEFAULT_TTL, type LabZone } from './zone';

/** Classic UDP limit without EDNS (RFC 1035 §4.2.1); larger answers set TC and the client retries on TCP. */
const UDP_LIMIT = 512;
const EDNS_MAX = 4096;
const TCP_IDLE_MS = 10_000;

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

type Answer = dnsPacket.Answer;

/** Builds the answer to one query message; null means "send nothing" (e.g. the message was a response). */
export function answerQuery(zone: LabZone, message: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
  if (message.length < 2) return null;
  const id = message.readUInt16BE(0);
  let query: dnsPacket.DecodedPacket;
  try {
    query = dnsPacket.decode(message);
  } catch {
    // Not a parsable message: FORMERR with the id we could read, when the header is there at all.
    return message.length >= 12 && (message[2]! & 0x80) === 0 ? errorOnly(id, RCODE.FORMERR) : null;
  }
  if (query.type === 'response') return null;
  const rd = query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
  // Opcode sits in bits 11–14 of the flags word; only a standard QUERY (0) is served.
  if (((message.readUInt16BE(2) >> 11) & 0xf) !== 0) return errorOnly(id, RCODE.NOTIMP, rd);
  const questions = query.questions ?? [];
  if (questions.length !== 1) return errorOnly(id, RCODE.FORMERR, rd);
  const q = questions[0]!;
  const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  const limit = transport === 'tcp' ? 65535 : Math.min(EDNS_MAX, Math.max(UDP_LIMIT, opt?.udpPayloadSize ?? UDP_LIMIT));
  const ednsReply: Answer[] = opt ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_MAX, flags: 0 } as unknown as Answer] : [];

  const reply = (rcode: number, answers: Answer[], authorities: Answer[], additionals: Answer[], aa = true): Buffer => {
    const packet: dnsPacket.Packet = {
      id,
      type: 'response',
      flags: (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rd | rcode,
      questions: [q],
      answers,
      authorities,
      additionals: [...additionals, ...ednsReply],
    };
    const buf = dnsPacket.encode(packet);
    if (buf.length <= limit) return buf;
    // Too big for this transport: the header and question only, with TC set (RFC 2181 §9).
    return dnsPacket.encode({ ...packet, flags: packet.flags! | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: ednsReply });
  };

  if ((q.class ?? 'IN') !== 'IN') return reply(RCODE.REFUSED, [], [], [], false);
  const name = q.name.replace(/\.$/, '');
  if (!zone.covers(name)) return reply(RCODE.REFUSED, [], [], [], false);
  const soa = soaRecord(zone);
  if (!zone.exists(name)) return reply(RCODE.NXDOMAIN, [], [soa], []);

  const answers = recordsFor(zone, name, q.type);
  if (answers.length === 0) return reply(RCODE.NOERROR, [], [soa], []); // NODATA
  const additionals: Answer[] = [];
  for (const a of answers) {
    if (a.type === 'SRV') {
      for (const r of zone.lookup(a.data.target)) {
        if (r.type === 'A' || r.type === 'AAAA') additionals.push({ name: r.name, type: r.type, ttl: r.ttl ?? DEFAULT_TTL, data: r.address });
      }
    }
  }
  return reply(RCODE.NOERROR, answers, [], additionals);
}

function recordsFor(zone: LabZone, name: string, type: string): Answer[] {
  const out: Answer[] = [];
  const want = (t: string) => type === t || type === 'ANY';
  if (name.toLowerCase() === zone.apex) {
    if (want('SOA')) out.push(soaRecord(zone));
    if (want('NS')) out.push({ name: zone.apex, type: 'NS', ttl: DEFAULT_TTL, data: `ns1.${zone.apex}` });
  }
  for (const r of zone.lookup(name)) {
    if (!want(r.type)) continue;
    const ttl = r.ttl ?? DEFAULT_TTL;
    switch (r.type) {
      case 'A':
      case 'AAAA':
        out.push({ name: r.name, type: r.type, ttl, data: r.address });
        break;
      case 'SRV':
        out.push({ name: r.name, type: 'SRV', ttl, data: { target: r.target, port: r.port, priority: r.priority ?? 0, weight: r.weight ?? 0 } });
        break;
      case 'TXT':
        out.push({ name: r.name, type: 'TXT', ttl, data: r.text });
        break;
    }
  }
  return out;
}

function soaRecord(zone: LabZone): Answer {
  return {
    name: zone.apex,
    type: 'SOA',
    ttl: DEFAULT_TTL,
    data: {
      mname: `ns1.${zone.apex}`,
      rname: `hostmaster.${zone.apex}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: DEFAULT_TTL, // negative-caching TTL (RFC 2308)
    },
  };
}

function errorOnly(id: number, rcode: number, rd = 0): Buffer {
  return dnsPacket.encode({ id, type: 'response', flags: rd | rcode, questions: [], answers: [], authorities: [], additionals: [] });
}

export interface LabDnsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The lab's DNS server: UDP and TCP on the same port. Binding tries the same port on both; with
 * port 0 it takes a free UDP port and then asks TCP for that one, retrying a few times if taken.
 */
export async function startDnsServer(zone: LabZone, host: string, port: number, log: (m: string) => void): Promise<LabDnsServer> {
  const attempts = port === 0 ? 10 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    try {
      await bindUdp(udp, host, port);
    } catch (err) {
      udp.close();
      throw listenError(host, port, err);
    }
    const bound = udp.address().port;
    const tcp = createServer();
    try {
      await listenTcp(tcp, host, bound);
    } catch (err) {
      udp.close();
      lastError = err;
      continue;
    }
    return serve(zone, host, udp, tcp, log);
  }
  throw listenError(host, port, lastError);
}

function serve(zone: LabZone, host: string, udp: UdpSocket, tcp: Server, log: (m: string) => void): LabDnsServer {
  udp.on('message', (msg, rinfo) => {
    const out = safeAnswer(zone, msg, 'udp', log);
    if (!out) return;
    try {
      udp.send(out, rinfo.port, rinfo.address);
    } catch (err) {
      // send() throws synchronously on an unusable source (a forged port 0): drop it, keep serving.
      log(`dns/udp: cannot reply to ${rinfo.address}:${rinfo.port}: ${(err as Error).message}`);
    }
  });
  udp.on('error', (err) => log(`dns/udp: ${err.message}`));
  const sockets = new Set<Socket>();
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // RFC 1035 §4.2.2: each message is prefixed by a two-byte length; several may share a connection.
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const out = safeAnswer(zone, Buffer.from(msg), 'tcp', log);
        if (out) {
          const framed = Buffer.alloc(2 + out.length);
          framed.writeUInt16BE(out.length, 0);
          out.copy(framed, 2);
          socket.write(framed);
        }
      }
    });
  });
  return {
    host,
    port: udp.address().port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        let left = 2;
        const done = () => {
          if (--left === 0) resolve();
        };
        udp.close(done);
        tcp.close(done);
      }),
  };
}

function safeAnswer(zone: LabZone, msg: Buffer, transport: 'udp' | 'tcp', log: (m: string) => void): Buffer | null {
  try {
    return answerQuery(zone, msg, transport);
  } catch (err) {
    log(`dns: cannot answer a query: ${(err as Error).message}`);
    return msg.length >= 2 ? errorOnly(msg.readUInt16BE(0), RCODE.SERVFAIL) : null;
  }
}

function bindUdp(socket: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function listenError(host: string, port: number, cause: unknown): TetherError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
  return new TetherError('LAB_LISTEN_FAILED', `The lab's DNS server cannot use ${host}:${port} (${code}).`, {
    detail: { host, port, listener: 'DNS' },
    cause,
  });
}

