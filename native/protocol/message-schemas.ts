/**
 * The schema of every message body (docs/tether-protocol.md §5.2, §9): field order, type and bounds.
 * Each codec is annotated with its type from messages.ts so the two cannot drift apart.
 */
import {
  array,
  alwaysTrue,
  bool,
  bytes,
  enumOf,
  nullable,
  oneOfNumbers,
  string,
  struct,
  u16,
  u32,
  u8,
  union,
  type Codec,
} from './codec';
import type {
  CredentialsReply,
  CredentialsRequest,
  DeviceIdentity,
  DeviceStatus,
  DisplayEvent,
  Empty,
  ErrorReply,
  EventName,
  Events,
  FirmwareActivateReply,
  FirmwareActivateRequest,
  FirmwareBeginReply,
  FirmwareBeginRequest,
  FirmwareSlotReply,
  FirmwareStatusReply,
  FirmwareVerifyReply,
  FirmwareVerifyRequest,
  InBandAddresses,
  InstallCaChainReply,
  InstallCaChainRequest,
  InstallCertificateReply,
  InstallCertificateRequest,
  LogsReply,
  LogsRequest,
  MakeKeyPairReply,
  MakeKeyPairRequest,
  OperationName,
  Operations,
  PoolEndpoints,
  RebootReply,
  RebootRequest,
  RegistrationStatus,
  WipeRequest,
} from './messages';

// ---- reusable field rules ----
const PRINTABLE = /^[\x20-\x7e]+$/;
// Control characters are exactly what this pattern exists to refuse.
// eslint-disable-next-line no-control-regex
const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/;
const TOKEN = /^[A-Za-z0-9._-]+$/;
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const FQDN = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);
const URL_RE = /^https?:\/\/[\x21-\x7e]+$/;
const SIP_URI = /^sip:[^\s@]+@[^\s@]+$/;

const token = (max: number): Codec<string> => string({ min: 1, max, pattern: TOKEN, patternName: '[A-Za-z0-9._-]' });
const printable = (max: number): Codec<string> => string({ min: 1, max, pattern: PRINTABLE, patternName: 'printable ASCII' });
const ipv4 = string({ min: 7, max: 15, pattern: IPV4, patternName: 'dotted IPv4' });
const fqdn = string({ min: 1, max: 253, pattern: FQDN, patternName: 'FQDN' });
const url = string({ min: 8, max: 2048, pattern: URL_RE, patternName: 'http(s) URL' });
const sipUri = string({ min: 5, max: 256, pattern: SIP_URI, patternName: 'sip:user@domain' });
const text = (max: number): Codec<string> => string({ max });
const sha256 = bytes(32, 32);
const der = (max: number): Codec<Uint8Array> => bytes(1, max);
const slot = enumOf(['a', 'b'] as const);

/** Bounds (docs §9). */
export const LIMITS = {
  certificateBytes: 16 * 1024,
  chainLength: 16,
  csrBytes: 16 * 1024,
  dhcpOptionBytes: 4096,
  displayTextBytes: 4096,
  logBytes: 8 * 1024 * 1024,
} as const;

// ---- identity and status ----
export const identityCodec: Codec<DeviceIdentity> = struct({
  modelId: token(32),
  serial: printable(64),
  hardwareRevision: printable(32),
  firmwareVersion: printable(64),
  mac: string({ min: 17, max: 17, pattern: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, patternName: 'aa:bb:cc:dd:ee:ff' }),
  locale: string({ min: 1, max: 35, pattern: /^[A-Za-z0-9-]+$/, patternName: '[A-Za-z0-9-]' }),
});

/** In-band provisioning's addresses as the phone reports them (bounded like every URL and FQDN here). */
const inBandCodec: Codec<InBandAddresses> = struct({ registrarFqdn: fqdn, deviceUpdateInternalUrl: url, deviceUpdateExternalUrl: url });

export const registrationCodec: Codec<RegistrationStatus> = struct({
  state: enumOf(['unregistered', 'registering', 'registered', 'failed'] as const),
  sipUri: nullable(sipUri),
  registrar: nullable(fqdn),
  sipStatus: nullable(u16(100, 699)),
  diagnostics: nullable(string({ max: 1024, pattern: NO_CONTROL, patternName: 'no control characters' })),
  provisioning: nullable(inBandCodec),
});

export const statusCodec: Codec<DeviceStatus> = struct({
  vlan: nullable(u16(1, 4094)),
  vlanSource: nullable(enumOf(['lldp', 'dhcp', 'configured'] as const)),
  ip: nullable(
    struct({
      address: ipv4,
      prefixLength: u8(0, 32),
      gateway: nullable(ipv4),
      dnsServers: array(ipv4, 0, 8),
      domain: nullable(fqdn),
      leaseSeconds: u32(),
    }),
  ),
  dhcpOption43: nullable(bytes(0, LIMITS.dhcpOptionBytes)),
  dhcpOption120: nullable(bytes(0, LIMITS.dhcpOptionBytes)),
  registration: registrationCodec,
  displayText: text(LIMITS.displayTextBytes),
});

const empty: Codec<Empty> = struct({});

// ---- operations ----
const poolEndpointsCodec: Codec<PoolEndpoints> = struct({
  registrar: nullable(struct({ fqdn, port: u16(1, 65535) })),
  webServicesInternal: nullable(url),
  webServicesExternal: nullable(url),
  deviceUpdateInternal: nullable(url),
  deviceUpdateExternal: nullable(url),
});

const installCaChainRequest: Codec<InstallCaChainRequest> = struct({
  certificates: array(der(LIMITS.certificateBytes), 1, LIMITS.chainLength),
});
const installCaChainReply: Codec<InstallCaChainReply> = struct({
  fingerprints: array(string({ min: 64, max: 64, pattern: /^[0-9a-f]{64}$/, patternName: 'lower-case hex' }), 1, LIMITS.chainLength),
});

const credentialsRequest: Codec<CredentialsRequest> = union({
  pin: struct({
    extension: string({ min: 1, max: 32, pattern: /^\+?[0-9]+$/, patternName: 'digits, optional leading +' }),
    pin: string({ min: 1, max: 24, pattern: /^[0-9]+$/, patternName: 'digits' }),
  }),
  ntlm: struct({
    domain: string({ min: 1, max: 255, pattern: NO_CONTROL, patternName: 'no control characters' }),
    user: string({ min: 1, max: 256, pattern: NO_CONTROL, patternName: 'no control characters' }),
    password: string({ max: 256 }),
    sipUri,
  }),
});
const credentialsReply: Codec<CredentialsReply> = struct({ accepted: alwaysTrue });

const makeKeyPairRequest: Codec<MakeKeyPairRequest> = struct({
  subject: string({ min: 1, max: 256, pattern: PRINTABLE, patternName: 'printable ASCII' }),
  keyBits: oneOfNumbers([1024, 2048, 4096] as const),
});
const makeKeyPairReply: Codec<MakeKeyPairReply> = struct({ csr: der(LIMITS.csrBytes) });

const installCertificateRequest: Codec<InstallCertificateRequest> = struct({
  certificate: der(LIMITS.certificateBytes),
  chain: array(der(LIMITS.certificateBytes), 0, LIMITS.chainLength),
});
const installCertificateReply: Codec<InstallCertificateReply> = struct({
  thumbprint: string({ min: 40, max: 40, pattern: /^[0-9A-F]{40}$/, patternName: 'upper-case hex' }),
});

const version = token(64);
const transferId = u32(1, 0xffff_ffff);

const firmwareBeginRequest: Codec<FirmwareBeginRequest> = struct({ size: u32(1, 0xffff_ffff), version, sha256 });
const firmwareBeginReply: Codec<FirmwareBeginReply> = struct({ transferId, slot, have: u32() });
const firmwareStatusReply: Codec<FirmwareStatusReply> = struct({
  running: slot,
  runningVersion: version,
  pendingCommit: bool,
  slots: array(
    struct({
      slot,
      version: nullable(version),
      state: enumOf(['empty', 'receiving', 'verified', 'pending', 'active', 'committed'] as const),
    }),
    2,
    2,
  ),
  transfer: nullable(
    struct({ transferId, version, size: u32(1, 0xffff_ffff), sha256, have: u32(), verified: bool }),
  ),
});
const firmwareVerifyRequest: Codec<FirmwareVerifyRequest> = struct({ transferId });
const firmwareVerifyReply: Codec<FirmwareVerifyReply> = struct({ sha256 });
const firmwareActivateRequest: Codec<FirmwareActivateRequest> = struct({ transferId });
const firmwareActivateReply: Codec<FirmwareActivateReply> = struct({ slot, rebootInMs: u32(0, 600_000) });
const firmwareSlotReply: Codec<FirmwareSlotReply> = struct({ slot, version });

const wipeRequest: Codec<WipeRequest> = struct({ includeCertificate: bool });
const logsRequest: Codec<LogsRequest> = struct({ maxBytes: u32(1, LIMITS.logBytes) });
const logsReply: Codec<LogsReply> = struct({ text: text(LIMITS.logBytes), truncated: bool });
const rebootRequest: Codec<RebootRequest> = struct({ delayMs: u32(0, 60_000) });
const rebootReply: Codec<RebootReply> = struct({ rebootInMs: u32(0, 600_000) });

type OperationCodecs = {
  readonly [K in OperationName]: {
    readonly request: Codec<Operations[K]['request']>;
    readonly reply: Codec<Operations[K]['reply']>;
  };
};

export const OPERATION_SCHEMAS: OperationCodecs = {
  status: { request: empty, reply: statusCodec },
  setPoolEndpoints: { request: poolEndpointsCodec, reply: empty },
  installCaChain: { request: installCaChainRequest, reply: installCaChainReply },
  credentials: { request: credentialsRequest, reply: credentialsReply },
  makeKeyPair: { request: makeKeyPairRequest, reply: makeKeyPairReply },
  installCertificate: { request: installCertificateRequest, reply: installCertificateReply },
  firmwareBegin: { request: firmwareBeginRequest, reply: firmwareBeginReply },
  firmwareStatus: { request: empty, reply: firmwareStatusReply },
  firmwareVerify: { request: firmwareVerifyRequest, reply: firmwareVerifyReply },
  firmwareActivate: { request: firmwareActivateRequest, reply: firmwareActivateReply },
  firmwareCommit: { request: empty, reply: firmwareSlotReply },
  firmwareRollback: { request: empty, reply: firmwareSlotReply },
  wipe: { request: wipeRequest, reply: empty },
  logs: { request: logsRequest, reply: logsReply },
  reboot: { request: rebootRequest, reply: rebootReply },
};

const displayCodec: Codec<DisplayEvent> = struct({ text: text(LIMITS.displayTextBytes) });

export const EVENT_SCHEMAS: { readonly [E in EventName]: Codec<Events[E]> } = {
  status: statusCodec,
  registration: registrationCodec,
  display: displayCodec,
};

export const errorReplyCodec: Codec<ErrorReply> = struct({
  code: string({ min: 1, max: 64, pattern: /^[A-Z0-9_]+$/, patternName: '[A-Z0-9_]' }),
  message: string({ max: 512 }),
});

// ---- handshake ----
const feature = string({ min: 1, max: 32, pattern: /^[a-z0-9-]+$/, patternName: '[a-z0-9-]' });

export const helloCodec = struct({
  versions: array(u8(1, 255), 1, 16),
  maxPayload: u32(),
  window: u32(),
  heartbeatMs: u32(),
  features: array(feature, 0, 16),
  commitment: bytes(32, 32),
});
export const welcomeCodec = struct({
  version: u8(1, 255),
  maxPayload: u32(),
  window: u32(),
  features: array(feature, 0, 16),
  identity: identityCodec,
  publicKey: bytes(32, 32),
  nonce: bytes(32, 32),
});
export const keyCodec = struct({ publicKey: bytes(32, 32), nonce: bytes(32, 32) });
/** §5.7: the host's long-term key, and its proof over this session's transcript when it believes the phone knows it. */
export const pairCodec = struct({ hostKey: bytes(32, 32), proof: nullable(bytes(64, 64)) });
/** §5.7: the phone's long-term key, and its proof when it accepted the host's. */
export const pairAnswerCodec = struct({ phoneKey: bytes(32, 32), proof: nullable(bytes(64, 64)) });
export const resetCodec = struct({
  code: string({ min: 1, max: 64, pattern: /^[A-Z0-9_]+$/, patternName: '[A-Z0-9_]' }),
});

export const BULK_HEADER_SIZE = 12;

