import { createSocket, type Socket } from 'node:dgram';
import { buildInform, decodeDhcpPacket, encodeDhcpPacket, MESSAGE_TYPE, OPTION, type DhcpPacket } from '../../../common/pool/dhcp-packet';

export const MAC = '02:00:5e:10:00:01';

/** A DHCPINFORM as a phone sends it, encoded (vendor class and option 55 adjustable). */
export function informBytes(xid: number, vendorClass = 'MS-UC-Client', parameters: number[] = [1, 3, 6, 15, 43, 120]): Uint8Array {
  return encodeDhcpPacket(buildInform({ xid, clientIp: '127.0.0.1', mac: MAC, vendorClass, parameters }));
}

/** The same inform with another message type (DISCOVER, REQUEST, …). */
export function withType(xid: number, type: number, vendorClass = 'MS-UC-Client'): Uint8Array {
  const p = buildInform({ xid, clientIp: '0.0.0.0', mac: MAC, vendorClass, parameters: [43, 120] });
  const options = new Map(p.options);
  options.set(OPTION.messageType, Uint8Array.of(type));
  return encodeDhcpPacket({ ...p, options });
}

export { MESSAGE_TYPE };

/**
 * A raw UDP client on 127.0.0.1 (ephemeral port) that records every reply. `untilXid` waits for
 * the reply to one exchange: since the responder handles datagrams in order, a reply to a later
 * good inform proves every earlier datagram was handled (answered or not), with no sleep.
 */
export async function rawClient(server: { host: string; port: number }) {
  const socket: Socket = createSocket('udp4');
  const replies: DhcpPacket[] = [];
  const undecodable: Buffer[] = [];
  const waiters: { xid: number; resolve: (p: DhcpPacket) => void }[] = [];
  socket.on('message', (msg) => {
    let p: DhcpPacket;
    try {
      p = decodeDhcpPacket(msg);
    } catch {
      undecodable.push(msg);
      return;
    }
    replies.push(p);
    for (const w of waiters.filter((w) => w.xid === p.xid)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(p);
    }
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return {
    replies,
    undecodable,
    send: (bytes: Uint8Array) =>
      new Promise<void>((resolve, reject) => socket.send(bytes, server.port, server.host, (err) => (err ? reject(err) : resolve()))),
    untilXid(xid: number): Promise<DhcpPacket> {
      const seen = replies.find((p) => p.xid === xid);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ xid, resolve }));
    },
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/** "host:port" → parts. */
export function hostPort(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}
