import { createSocket } from 'node:dgram';
import type { LabDhcpOptions } from '../context';
import { answerDhcp, type IgnoredReason } from './answer';

export interface DhcpResponderStats {
  /** Datagrams received. */
  received: number;
  /** DHCPACKs sent. */
  answered: number;
  /** Datagrams that were not a readable DHCP packet (dropped). */
  malformed: number;
  /** Readable packets deliberately left unanswered, by reason. */
  ignored: Record<IgnoredReason, number>;
  /** Replies whose send failed (e.g. the client's port had closed). */
  sendErrors: number;
}

export interface DhcpResponderOptions {
  /** IPv4 address to bind (the lab binds 127.0.0.1). */
  readonly host: string;
  /** UDP port; 0 takes a free one. */
  readonly port: number;
  readonly options: () => LabDhcpOptions;
  readonly log?: (message: string) => void;
}

export interface DhcpResponder {
  readonly host: string;
  readonly port: number;
  /** A snapshot of the counters. */
  stats(): DhcpResponderStats;
  close(): Promise<void>;
}

/**
 * The lab's DHCPINFORM responder on one UDP socket. Replies go back to the sender's address and
 * port: a phone sends from port 68, so that is RFC 2131's "unicast to ciaddr, port 68"; a probe
 * on an unprivileged port (tests, `tether discover --dhcp-client-port 0`) gets its answer too.
 * Nothing a client sends can stop it: every datagram is judged by `answerDhcp`, which returns a
 * verdict instead of throwing.
 */
export async function startDhcpResponder(options: DhcpResponderOptions): Promise<DhcpResponder> {
  const log = options.log ?? (() => undefined);
  const stats: DhcpResponderStats = {
    received: 0,
    answered: 0,
    malformed: 0,
    ignored: { 'not-a-request': 0, 'not-inform': 0, 'vendor-class': 0, 'not-asked': 0, 'vlan-off': 0 },
    sendErrors: 0,
  };
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: options.host, port: options.port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const { port } = socket.address();
  // After binding, a socket error (rare on UDP) is logged; it must not bring the lab down.
  socket.on('error', (err) => log(`dhcp: socket error: ${err.message}`));
  socket.on('message', (msg, rinfo) => {
    stats.received++;
    const verdict = answerDhcp(msg, { options: options.options, serverId: options.host });
    if (verdict.kind === 'malformed') {
      stats.malformed++;
      log(`dhcp: dropped a malformed datagram from ${rinfo.address}:${rinfo.port} (${verdict.error.message})`);
      return;
    }
    if (verdict.kind === 'ignored') {
      stats.ignored[verdict.reason]++;
      return;
    }
    stats.answered++;
    const failed = (err: Error) => {
      stats.sendErrors++;
      log(`dhcp: reply to ${rinfo.address}:${rinfo.port} failed: ${err.message}`);
    };
    try {
      socket.send(verdict.reply, rinfo.port, rinfo.address, (err) => {
        if (err) failed(err);
      });
    } catch (err) {
      // send() throws synchronously on an unusable source (a forged port 0): count it, keep serving.
      failed(err as Error);
      return;
    }
    log(`dhcp: DHCPACK to ${verdict.request.chaddr} (${verdict.vendorClass}) at ${rinfo.address}:${rinfo.port}`);
  });
  let closed: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    stats: () => ({ ...stats, ignored: { ...stats.ignored } }),
    close: () => (closed ??= new Promise<void>((resolve) => socket.close(() => resolve()))),
  };
}
