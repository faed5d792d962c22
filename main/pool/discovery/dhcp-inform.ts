import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { TetherError, toTetherError } from '../../../common/errors';
import { UC_VENDOR_CLASS } from '../../../common/pool/dhcp-options';
import {
  buildInform,
  decodeDhcpPacket,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  encodeDhcpPacket,
  MESSAGE_TYPE,
  messageType,
  OPTION,
} from '../../../common/pool/dhcp-packet';
import { readPoolAnswer, type DhcpPoolAnswer } from './dhcp-answer';

/** Timer functions, injectable so tests need no real waits. */
export interface ProbeClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: ProbeClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface DhcpInformOptions {
  /** The interface to ask on, e.g. eth0. */
  readonly interfaceName: string;
  /** Send to this DHCP server (unicast) as well as the broadcast; e.g. the Registrar's responder. */
  readonly server?: string;
  /** Skip the broadcast (only meaningful with `server`). */
  readonly noBroadcast?: boolean;
  readonly timeoutMs?: number;
  /** Resend interval while no answer came (RFC 2131 §4.1 backs off; a helpdesk probe is short). */
  readonly retryMs?: number;
  /** MS-UC-Client (default: options 43/120 for the pool) or CPE-OCPHONE (option 43 = VLAN ID). */
  readonly vendorClass?: string;
  readonly clientPort?: number;
  readonly serverPort?: number;
  readonly clock?: ProbeClock;
  readonly interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** The kernel's link state of an interface (Linux operstate: up, down, dormant, …), or null when unknown. */
  readonly linkState?: (name: string) => string | null;
  readonly xid?: number;
  /** Told about every packet that was received but not taken (noise, malformed, not an ACK). */
  readonly onIgnored?: (why: TetherError) => void;
}

export interface DhcpInformResult extends DhcpPoolAnswer {
  readonly interfaceName: string;
  readonly clientIp: string;
  readonly mac: string;
  readonly vendorClass: string;
  /** Requests sent before the answer arrived. */
  readonly attempts: number;
}

/** The options the phone asks for: 43 and 120 [S9], plus 15 for the domain name (stage 3). */
export const INFORM_PARAMETERS = [OPTION.subnetMask, OPTION.router, OPTION.dnsServers, OPTION.domainName, OPTION.vendorSpecific, OPTION.sipServers];

/** Linux only: /sys/class/net/<name>/operstate; null elsewhere or when the name is not a plain interface name. */
export function linuxOperstate(name: string): string | null {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name) || name === '.' || name === '..') return null;
  try {
    return readFileSync(`/sys/class/net/${name}/operstate`, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function interfaceAddress(name: string, list: NodeJS.Dict<NetworkInterfaceInfo[]>, linkState: (name: string) => string | null): { ip: string; mac: string } {
  const entries = list[name];
  if (!entries) {
    // Node lists only interfaces that are up AND running: one with no link (cable out, Wi-Fi not
    // associated, or a link that came up a moment ago) exists but is missing from the list.
    const state = linkState(name);
    if (state !== null) {
      throw new TetherError('DHCP_INTERFACE_UNUSABLE', `Interface '${name}' exists but has no usable link (link state: ${state}). Check the cable or Wi-Fi connection, wait for the link to come up, and try again.`, {
        detail: { interface: name, linkState: state },
      });
    }
    throw new TetherError('DHCP_INTERFACE_UNUSABLE', `There is no network interface '${name}'. Known: ${Object.keys(list).join(', ') || 'none'}.`, {
      detail: { interface: name },
    });
  }
  const v4 = entries.find((e) => e.family === 'IPv4');
  if (!v4) throw new TetherError('DHCP_INTERFACE_UNUSABLE', `Interface '${name}' has no IPv4 address.`, { detail: { interface: name } });
  return { ip: v4.address, mac: v4.mac };
}

/**
 * Sends a DHCPINFORM with option 60 `MS-UC-Client` and option 55 asking for 43 and 120, the way
 * the phone does [S9], and decodes the DHCPACK. Node's dgram has no SO_BINDTODEVICE, so the socket
 * binds to the interface's IPv4 address on port 68: Linux then sends the limited broadcast out of
 * the interface that owns that address, and the server's unicast reply to ciaddr reaches us.
 */
export async function dhcpInform(options: DhcpInformOptions): Promise<DhcpInformResult> {
  const clock = options.clock ?? realClock;
  const { ip, mac } = interfaceAddress(options.interfaceName, (options.interfaces ?? networkInterfaces)(), options.linkState ?? linuxOperstate);
  const vendorClass = options.vendorClass ?? UC_VENDOR_CLASS;
  const xid = options.xid ?? randomInt(0, 2 ** 32);
  const request = encodeDhcpPacket(buildInform({ xid, clientIp: ip, mac, vendorClass, parameters: INFORM_PARAMETERS }));
  const serverPort = options.serverPort ?? DHCP_SERVER_PORT;
  const targets = [...(options.noBroadcast ? [] : ['255.255.255.255']), ...(options.server ? [options.server] : [])];
  if (targets.length === 0) throw new TetherError('BAD_INPUT', 'Nothing to send the DHCPINFORM to: give a server or allow the broadcast.');
  const timeoutMs = options.timeoutMs ?? 4000;
  const retryMs = options.retryMs ?? 1000;

  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: ip, port: options.clientPort ?? DHCP_CLIENT_PORT, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    socket.close();
    const code = (err as { code?: string }).code ?? '';
    throw new TetherError('DHCP_INTERFACE_UNUSABLE', `Cannot listen on ${ip}:${options.clientPort ?? DHCP_CLIENT_PORT} (${code || String(err)}).`, {
      detail: { interface: options.interfaceName, address: ip, reason: code },
      cause: err,
    });
  }
  socket.setBroadcast(true);
  return waitForAck(socket, { request, targets, serverPort, xid, timeoutMs, retryMs, clock, vendorClass, onIgnored: options.onIgnored }).then(
    ({ answer, attempts }) => ({ ...answer, interfaceName: options.interfaceName, clientIp: ip, mac, vendorClass, attempts }),
  );
}

interface Exchange {
  readonly request: Uint8Array;
  readonly targets: string[];
  readonly serverPort: number;
  readonly xid: number;
  readonly timeoutMs: number;
  readonly retryMs: number;
  readonly clock: ProbeClock;
  readonly vendorClass: string;
  readonly onIgnored: ((why: TetherError) => void) | undefined;
}

function waitForAck(socket: Socket, ex: Exchange): Promise<{ answer: DhcpPoolAnswer; attempts: number }> {
  return new Promise((resolve, reject) => {
    let attempts = 0;
    let lastProblem: TetherError | null = null;
    let retry: unknown = null;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      ex.clock.clearTimeout(deadline);
      if (retry !== null) ex.clock.clearTimeout(retry);
      socket.close();
      fn();
    };
    const send = () => {
      attempts++;
      for (const target of ex.targets) {
        socket.send(ex.request, ex.serverPort, target, (err) => {
          if (err) lastProblem = new TetherError('DHCP_INTERFACE_UNUSABLE', `Sending the DHCPINFORM to ${target} failed: ${err.message}.`, { cause: err });
        });
      }
      retry = ex.clock.setTimeout(send, ex.retryMs);
    };
    const deadline = ex.clock.setTimeout(() => {
      finish(() =>
        reject(
          lastProblem ??
            new TetherError('DHCP_NO_ANSWER', `No DHCPACK within ${ex.timeoutMs} ms after ${attempts} DHCPINFORM(s) to ${ex.targets.join(', ')}.`, {
              detail: { attempts, timeoutMs: ex.timeoutMs },
            }),
        ),
      );
    }, ex.timeoutMs);
    socket.on('message', (msg, rinfo) => {
      let packet;
      try {
        packet = decodeDhcpPacket(msg);
      } catch (err) {
        // Keep listening: another server may answer properly; report this one if none does.
        lastProblem = toTetherError(err);
        ex.onIgnored?.(lastProblem);
        return;
      }
      if (packet.op !== 2 || packet.xid !== ex.xid) return; // someone else's exchange
      const type = messageType(packet);
      if (type !== MESSAGE_TYPE.DHCPACK) {
        lastProblem = new TetherError('DHCP_PACKET_MALFORMED', `${rinfo.address} answered with DHCP message type ${type ?? 'none'} instead of DHCPACK.`, {
          detail: { server: rinfo.address, messageType: type ?? -1 },
        });
        ex.onIgnored?.(lastProblem);
        return;
      }
      finish(() => resolve({ answer: readPoolAnswer(packet, rinfo.address, ex.vendorClass), attempts }));
    });
    socket.on('error', (err) => finish(() => reject(new TetherError('DHCP_INTERFACE_UNUSABLE', err.message, { cause: err }))));
    send();
  });
}
