import {
  memoryLinkPair,
  openDeviceSession,
  openHostSession,
  type DeviceHandlers,
  type DeviceIdentity,
  type DeviceSession,
  type DeviceSessionOptions,
  type DeviceStatus,
  type FrameLink,
  type HostSession,
  type HostSessionOptions,
  type MemoryLinkOptions,
  type OperationName,
  type OperationReply,
  type OperationRequest,
} from '../../../native/protocol';
import { decodeFrame, FrameType, type Frame } from '../../../native/protocol/frame';

export const IDENTITY: DeviceIdentity = {
  modelId: 'CX600',
  serial: 'CX600-0001',
  hardwareRevision: 'A',
  firmwareVersion: '4.0.7577.4455',
  mac: '00:04:f2:aa:bb:cc',
  locale: 'ENU',
};

export const STATUS: DeviceStatus = {
  vlan: 20,
  vlanSource: 'lldp',
  ip: {
    address: '10.20.0.15',
    prefixLength: 24,
    gateway: '10.20.0.1',
    dnsServers: ['10.20.0.2', '10.20.0.3'],
    domain: 'contoso.com',
    leaseSeconds: 86400,
  },
  // MS-UC-Client sub-options 1 and 3 as a DHCP server sends them [S2].
  dhcpOption43: Uint8Array.of(1, 12, ...Buffer.from('MS-UC-Client'), 3, 18, ...Buffer.from('pool01.contoso.com')),
  // RFC 3361 encoding 0, then pool01.contoso.com as DNS labels.
  dhcpOption120: Uint8Array.of(0, 6, ...Buffer.from('pool01'), 7, ...Buffer.from('contoso'), 3, ...Buffer.from('com'), 0),
  registration: {
    state: 'failed',
    sipUri: 'sip:alice@contoso.com',
    registrar: 'pool01.contoso.com',
    sipStatus: 401,
    diagnostics: '1000;reason="Authentication failed"',
    provisioning: null,
  },
  displayText: 'Sign in failed\nCheck your PIN',
};

const SHA = new Uint8Array(32).map((_, i) => i + 1);

/** One request and one reply per operation (the round-trip table). */
export const SAMPLES: { [K in OperationName]: { request: OperationRequest<K>; reply: OperationReply<K> } } = {
  status: { request: {}, reply: STATUS },
  setPoolEndpoints: {
    request: {
      registrar: { fqdn: 'pool01.contoso.com', port: 5061 },
      webServicesInternal: 'https://pool01.contoso.com:443/CertProv/CertProvisioningService.svc',
      webServicesExternal: null,
      deviceUpdateInternal: 'https://pool01.contoso.com/RequestHandler/ucdevice.upx',
      deviceUpdateExternal: null,
    },
    reply: {},
  },
  installCaChain: {
    request: { certificates: [Uint8Array.of(0x30, 0x82, 1, 2, 3), Uint8Array.of(0x30, 0x82, 4, 5)] },
    reply: { fingerprints: ['a'.repeat(64), 'b'.repeat(64)] },
  },
  credentials: { request: { kind: 'pin', extension: '+14255550100', pin: '246813' }, reply: { accepted: true } },
  makeKeyPair: { request: { subject: 'sip:alice@contoso.com', keyBits: 2048 }, reply: { csr: Uint8Array.of(0x30, 0x82, 9, 9, 9) } },
  installCertificate: {
    request: { certificate: Uint8Array.of(0x30, 1, 2), chain: [Uint8Array.of(0x30, 3)] },
    reply: { thumbprint: '0123456789ABCDEF0123456789ABCDEF01234567' },
  },
  firmwareBegin: { request: { size: 1_000_000, version: '4.0.7577.4463', sha256: SHA }, reply: { transferId: 7, slot: 'b', have: 0 } },
  firmwareStatus: {
    request: {},
    reply: {
      running: 'a',
      runningVersion: '4.0.7577.4455',
      pendingCommit: false,
      slots: [
        { slot: 'a', version: '4.0.7577.4455', state: 'committed' },
        { slot: 'b', version: null, state: 'receiving' },
      ],
      transfer: { transferId: 7, version: '4.0.7577.4463', size: 1_000_000, sha256: SHA, have: 4096, verified: false },
    },
  },
  firmwareVerify: { request: { transferId: 7 }, reply: { sha256: SHA } },
  firmwareActivate: { request: { transferId: 7 }, reply: { slot: 'b', rebootInMs: 500 } },
  firmwareCommit: { request: {}, reply: { slot: 'b', version: '4.0.7577.4463' } },
  firmwareRollback: { request: {}, reply: { slot: 'a', version: '4.0.7577.4455' } },
  wipe: { request: { includeCertificate: true }, reply: {} },
  logs: { request: { maxBytes: 65536 }, reply: { text: 'boot ok\nlldp: vlan 20\n', truncated: false } },
  reboot: { request: { delayMs: 0 }, reply: { rebootInMs: 100 } },
};

/** Handlers that answer every operation with its sample reply and record the requests they saw. */
export function sampleHandlers(seen: Array<{ op: OperationName; request: unknown }> = []): DeviceHandlers {
  const handlers = {} as Record<OperationName, (req: unknown) => Promise<unknown>>;
  for (const op of Object.keys(SAMPLES) as OperationName[]) {
    handlers[op] = async (request) => {
      seen.push({ op, request });
      return SAMPLES[op].reply;
    };
  }
  return handlers as unknown as DeviceHandlers;
}

export interface Pair {
  host: HostSession;
  device: DeviceSession;
  hostLink: FrameLink;
  deviceLink: FrameLink;
  /** Every frame the host put on the link (after any transform), raw. */
  hostFrames: Uint8Array[];
  deviceFrames: Uint8Array[];
}

/** Connects a host and a phone session over a memory link pair (the host is side a). */
export async function connect(
  device: Partial<DeviceSessionOptions> = {},
  host: HostSessionOptions = {},
  link: MemoryLinkOptions = {},
): Promise<Pair> {
  const hostFrames: Uint8Array[] = [];
  const deviceFrames: Uint8Array[] = [];
  const [hostLink, deviceLink] = memoryLinkPair({
    transform: (direction, frame) => {
      const out = link.transform ? link.transform(direction, frame) : [frame];
      (direction === 'a→b' ? hostFrames : deviceFrames).push(...out);
      return out;
    },
  });
  const devicePromise = openDeviceSession(deviceLink, { identity: IDENTITY, handlers: sampleHandlers(), ...device });
  const hostSession = await openHostSession(hostLink, host);
  return { host: hostSession, device: await devicePromise, hostLink, deviceLink, hostFrames, deviceFrames };
}

/** Decodes raw frames for assertions (without checking the size limit). */
export function frames(raw: readonly Uint8Array[]): Frame[] {
  return raw.map((r) => decodeFrame(r, 1 << 24));
}

export function countData(raw: readonly Uint8Array[], channel?: number): number {
  return frames(raw).filter((f) => f.type === FrameType.DATA && (channel === undefined || f.channel === channel)).length;
}

/** Lets queued promise callbacks run (memory links deliver through microtasks). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** True when `needle` occurs anywhere in `haystack`. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.length).indexOf(Buffer.from(needle)) >= 0;
}
