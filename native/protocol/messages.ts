/**
 * Every message of the tether protocol: the phone's identity, each operation's typed request and
 * reply, each event, and the typed errors each operation may return. This is OUR MODEL (the real
 * phones' USB protocol was never published, docs/reference.md §6 [U]); the wire form of every type here
 * is specified in docs/tether-protocol.md §6–§8 and validated at the boundary (message-schemas.ts).
 *
 * Conventions: binary fields are `Uint8Array` (sent as blobs, never as JSON arrays); absent values
 * are `null`, never omitted, so every field is always present on the wire.
 */
import type { ErrorCode } from '../../common/errors';

// ---------------------------------------------------------------------------------------------
// Identity (sent by the phone in the handshake's WELCOME)
// ---------------------------------------------------------------------------------------------

export interface DeviceIdentity {
  /** Catalogue model id, e.g. "CX600" (native/usb/catalogue.json). 1–32 chars [A-Za-z0-9._-]. */
  readonly modelId: string;
  /** Serial number as printed on the phone. 1–64 printable ASCII chars. */
  readonly serial: string;
  /** Hardware revision, e.g. "A". 1–32 printable ASCII chars. */
  readonly hardwareRevision: string;
  /** Running firmware version, e.g. "4.0.7577.4455". 1–64 printable ASCII chars. */
  readonly firmwareVersion: string;
  /** Ethernet MAC, lower-case "aa:bb:cc:dd:ee:ff". */
  readonly mac: string;
  /** Locale as Device Update names it, e.g. "ENU". 1–35 chars [A-Za-z0-9-]. */
  readonly locale: string;
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

export interface IpLease {
  /** Dotted-quad IPv4 address. */
  readonly address: string;
  readonly prefixLength: number;
  readonly gateway: string | null;
  readonly dnsServers: readonly string[];
  /** DNS domain from DHCP option 15, if any. */
  readonly domain: string | null;
  readonly leaseSeconds: number;
}

export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'failed';

export interface RegistrationStatus {
  readonly state: RegistrationState;
  /** The SIP URI signed in (or trying), e.g. "sip:alice@contoso.com". */
  readonly sipUri: string | null;
  /** Registrar FQDN in use. */
  readonly registrar: string | null;
  /** When state is "failed": the SIP status code (e.g. 401, 403, 504), else null. */
  readonly sipStatus: number | null;
  /** When state is "failed": the ms-diagnostics header text the phone got (no secrets), else null. */
  readonly diagnostics: string | null;
  /**
   * When state is "registered": the addresses in-band provisioning gave the phone in the
   * registrar's answer [S25] (docs/pool/registrar.md), else null. Tether checks for updates with
   * them after sign-in (the vendor's fallback) and saves the external ones for sign-in from outside.
   */
  readonly provisioning: InBandAddresses | null;
}

/** The addresses of in-band provisioning (no secret): registrarfqdn, updatesserverinternalurl, updatesserverexternalurl. */
export interface InBandAddresses {
  readonly registrarFqdn: string;
  /** `updatesserverinternalurl`: https://<pool>/RequestHandler/ucdevice.upx. */
  readonly deviceUpdateInternalUrl: string;
  /** `updatesserverexternalurl`: https://<external Web Services>/RequestHandlerExt/ucdevice.upx. */
  readonly deviceUpdateExternalUrl: string;
}

export interface DeviceStatus {
  /** Voice VLAN ID (1–4094) the phone uses, or null when untagged/unknown. */
  readonly vlan: number | null;
  /** How the VLAN was learnt. */
  readonly vlanSource: 'lldp' | 'dhcp' | 'configured' | null;
  readonly ip: IpLease | null;
  /** DHCP option 43 payload exactly as the phone received it (no decoding on the phone), or null. */
  readonly dhcpOption43: Uint8Array | null;
  /** DHCP option 120 payload exactly as the phone received it, or null. */
  readonly dhcpOption120: Uint8Array | null;
  readonly registration: RegistrationStatus;
  /** What the phone's display shows now (plain text, lines separated by "\n"). */
  readonly displayText: string;
}

// ---------------------------------------------------------------------------------------------
// Operation payloads
// ---------------------------------------------------------------------------------------------

export type Empty = Record<string, never>;

export interface PoolEndpoints {
  /** Registrar (Director or Front End pool) the phone registers with. */
  readonly registrar: { readonly fqdn: string; readonly port: number } | null;
  /** Internal CertProv URL, https://<pool>/CertProv/CertProvisioningService.svc. */
  readonly webServicesInternal: string | null;
  readonly webServicesExternal: string | null;
  /** Device Update request handler URL (…/RequestHandler/ucdevice.upx). */
  readonly deviceUpdateInternal: string | null;
  readonly deviceUpdateExternal: string | null;
}

export interface InstallCaChainRequest {
  /** DER certificates, root first then each intermediate (1–16, each ≤ 16 KiB). */
  readonly certificates: readonly Uint8Array[];
}
export interface InstallCaChainReply {
  /** SHA-256 fingerprints (lower-case hex) of the certificates the phone now trusts, in order. */
  readonly fingerprints: readonly string[];
}

/** PIN sign-in (Aries phones only): phone number or extension, and PIN. */
export interface PinCredentials {
  readonly kind: 'pin';
  /** Phone number or extension, digits and "+" only, 1–32 chars. */
  readonly extension: string;
  /** 1–24 digits. SECRET. */
  readonly pin: string;
}
/** Windows (NTLM) sign-in. */
export interface NtlmCredentials {
  readonly kind: 'ntlm';
  readonly domain: string;
  readonly user: string;
  /** SECRET. 0–256 chars. */
  readonly password: string;
  /** The user's SIP URI, e.g. "sip:alice@contoso.com". */
  readonly sipUri: string;
}
export type CredentialsRequest = PinCredentials | NtlmCredentials;
export interface CredentialsReply {
  readonly accepted: true;
}

export interface MakeKeyPairRequest {
  /** Subject common name: the SIP URI (CN=sip:alice@contoso.com; SIPE uses the bare alice@contoso.com). */
  readonly subject: string;
  /** RSA modulus bits. */
  readonly keyBits: 1024 | 2048 | 4096;
}
export interface MakeKeyPairReply {
  /** DER PKCS#10 certification request; the private key stays on the phone. */
  readonly csr: Uint8Array;
}

export interface InstallCertificateRequest {
  /** DER X.509 certificate issued for the phone's key pair. */
  readonly certificate: Uint8Array;
  /** DER certificates of the issuing chain (0–16). */
  readonly chain: readonly Uint8Array[];
}
export interface InstallCertificateReply {
  /** SHA-1 thumbprint, upper-case hex, as Lync and Windows show it. */
  readonly thumbprint: string;
}

export type FirmwareSlot = 'a' | 'b';

export interface FirmwareBeginRequest {
  /** Image size in bytes, 1 … 2^32-1. */
  readonly size: number;
  readonly version: string;
  /** SHA-256 of the whole image (32 bytes). */
  readonly sha256: Uint8Array;
}
export interface FirmwareBeginReply {
  /** Id to put in every bulk chunk of this image (u32, non-zero). */
  readonly transferId: number;
  /** Slot the image is written to (the inactive one). */
  readonly slot: FirmwareSlot;
  /**
   * Bytes of this image (same size, version and SHA-256) the phone already holds contiguously
   * from offset 0: the host resumes from here (0 for a new image).
   */
  readonly have: number;
}

export interface FirmwareSlotInfo {
  readonly slot: FirmwareSlot;
  /** Version in the slot, or null when empty/partial. */
  readonly version: string | null;
  readonly state: 'empty' | 'receiving' | 'verified' | 'pending' | 'active' | 'committed';
}
export interface FirmwareTransferInfo {
  readonly transferId: number;
  readonly version: string;
  readonly size: number;
  readonly sha256: Uint8Array;
  readonly have: number;
  readonly verified: boolean;
}
export interface FirmwareStatusReply {
  /** Slot the phone booted from. */
  readonly running: FirmwareSlot;
  readonly runningVersion: string;
  /** True when the running image was activated but not committed yet (next reset rolls back). */
  readonly pendingCommit: boolean;
  readonly slots: readonly FirmwareSlotInfo[];
  readonly transfer: FirmwareTransferInfo | null;
}

export interface FirmwareVerifyRequest {
  readonly transferId: number;
}
export interface FirmwareVerifyReply {
  readonly sha256: Uint8Array;
}
export interface FirmwareActivateRequest {
  readonly transferId: number;
}
export interface FirmwareActivateReply {
  /** Slot the phone will boot next. */
  readonly slot: FirmwareSlot;
  /** Milliseconds until the phone reboots (the session then ends). */
  readonly rebootInMs: number;
}
export interface FirmwareSlotReply {
  readonly slot: FirmwareSlot;
  readonly version: string;
}

export interface WipeRequest {
  /** Also delete the phone's key pair and certificate. */
  readonly includeCertificate: boolean;
}

export interface LogsRequest {
  /** Most recent bytes wanted, 1 … 8 MiB. */
  readonly maxBytes: number;
}
export interface LogsReply {
  /** UTF-8 log text, newest last. The phone redacts secrets before sending. */
  readonly text: string;
  readonly truncated: boolean;
}

export interface RebootRequest {
  /** Milliseconds the phone waits before rebooting (0 … 60000). */
  readonly delayMs: number;
}
export interface RebootReply {
  readonly rebootInMs: number;
}

// ---------------------------------------------------------------------------------------------
// The operation table
// ---------------------------------------------------------------------------------------------

/** Every operation: request and reply types. The key is the operation's name in the API. */
export interface Operations {
  status: { request: Empty; reply: DeviceStatus };
  setPoolEndpoints: { request: PoolEndpoints; reply: Empty };
  installCaChain: { request: InstallCaChainRequest; reply: InstallCaChainReply };
  credentials: { request: CredentialsRequest; reply: CredentialsReply };
  makeKeyPair: { request: MakeKeyPairRequest; reply: MakeKeyPairReply };
  installCertificate: { request: InstallCertificateRequest; reply: InstallCertificateReply };
  firmwareBegin: { request: FirmwareBeginRequest; reply: FirmwareBeginReply };
  firmwareStatus: { request: Empty; reply: FirmwareStatusReply };
  firmwareVerify: { request: FirmwareVerifyRequest; reply: FirmwareVerifyReply };
  firmwareActivate: { request: FirmwareActivateRequest; reply: FirmwareActivateReply };
  firmwareCommit: { request: Empty; reply: FirmwareSlotReply };
  firmwareRollback: { request: Empty; reply: FirmwareSlotReply };
  wipe: { request: WipeRequest; reply: Empty };
  logs: { request: LogsRequest; reply: LogsReply };
  reboot: { request: RebootRequest; reply: RebootReply };
}

export type OperationName = keyof Operations;
export type OperationRequest<K extends OperationName> = Operations[K]['request'];
export type OperationReply<K extends OperationName> = Operations[K]['reply'];

/** Wire numbers of the operations (docs §7). Never reuse a number. */
export const OPERATION_CODES = {
  status: 0x01,
  setPoolEndpoints: 0x02,
  installCaChain: 0x03,
  credentials: 0x04,
  makeKeyPair: 0x05,
  installCertificate: 0x06,
  firmwareBegin: 0x10,
  firmwareStatus: 0x11,
  firmwareVerify: 0x12,
  firmwareActivate: 0x13,
  firmwareCommit: 0x14,
  firmwareRollback: 0x15,
  wipe: 0x20,
  logs: 0x21,
  reboot: 0x22,
} as const satisfies Record<OperationName, number>;

export const OPERATION_NAMES = Object.keys(OPERATION_CODES) as readonly OperationName[];

/**
 * Operations refused by BOTH sides until the host has confirmed the pairing code (SAS): they carry
 * secrets (credentials), decide what the phone trusts (CA chain, pool endpoints, certificate), or
 * make its key. The host API rejects them with PROTOCOL_NOT_PAIRED before encoding a byte; the
 * phone answers them with a PROTOCOL_NOT_PAIRED error reply.
 */
export const PAIRED_ONLY_OPERATIONS: ReadonlySet<OperationName> = new Set<OperationName>([
  'setPoolEndpoints',
  'installCaChain',
  'credentials',
  'makeKeyPair',
  'installCertificate',
  'wipe',
]);

/**
 * The typed errors each operation may return in an error reply, besides the ones any operation may
 * return (COMMON_OPERATION_ERRORS). A phone that returns a code not in its catalogue makes the host
 * raise PROTOCOL_REMOTE_ERROR instead.
 */
export const OPERATION_ERRORS = {
  status: [],
  setPoolEndpoints: ['DEVICE_POOL_ENDPOINTS_REJECTED'],
  installCaChain: ['DEVICE_CHAIN_REJECTED', 'DEVICE_STORAGE_FULL'],
  credentials: ['DEVICE_CREDENTIALS_REJECTED'],
  makeKeyPair: ['DEVICE_STORAGE_FULL'],
  installCertificate: ['DEVICE_NO_KEY_PAIR', 'DEVICE_CERTIFICATE_MISMATCH', 'DEVICE_STORAGE_FULL'],
  firmwareBegin: ['DEVICE_STORAGE_FULL'],
  firmwareStatus: [],
  firmwareVerify: ['DEVICE_FIRMWARE_NO_TRANSFER', 'DEVICE_FIRMWARE_INCOMPLETE', 'DEVICE_FIRMWARE_HASH_MISMATCH'],
  firmwareActivate: ['DEVICE_FIRMWARE_NO_TRANSFER', 'DEVICE_FIRMWARE_NOT_VERIFIED'],
  firmwareCommit: ['DEVICE_FIRMWARE_NOTHING_TO_COMMIT'],
  firmwareRollback: ['DEVICE_FIRMWARE_NO_ROLLBACK'],
  wipe: [],
  logs: [],
  reboot: [],
} as const satisfies Record<OperationName, readonly ErrorCode[]>;

/** Errors any operation may return. */
export const COMMON_OPERATION_ERRORS = [
  'DEVICE_BAD_REQUEST',
  'DEVICE_INTERNAL',
  'PROTOCOL_NOT_PAIRED',
  'PROTOCOL_BUSY',
  'PROTOCOL_UNSUPPORTED_OPERATION',
] as const satisfies readonly ErrorCode[];

// ---------------------------------------------------------------------------------------------
// Events (phone → host)
// ---------------------------------------------------------------------------------------------

export interface DisplayEvent {
  readonly text: string;
}

export interface Events {
  /** The phone's status changed (any field); carries the whole new status. */
  status: DeviceStatus;
  /** A sign-in (SIP REGISTER) finished, successfully or not. */
  registration: RegistrationStatus;
  /** The display text changed. */
  display: DisplayEvent;
}
export type EventName = keyof Events;

export const EVENT_CODES = {
  status: 0x01,
  registration: 0x02,
  display: 0x03,
} as const satisfies Record<EventName, number>;

export const EVENT_NAMES = Object.keys(EVENT_CODES) as readonly EventName[];

// ---------------------------------------------------------------------------------------------
// Bulk channel (firmware data)
// ---------------------------------------------------------------------------------------------

/** One chunk of firmware data as the phone's bulk handler receives it. */
export interface BulkChunk {
  readonly transferId: number;
  /** Byte offset of `data` in the image. */
  readonly offset: number;
  /** A view into the decrypted frame; copy it if you keep it past the handler's promise. */
  readonly data: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Error replies
// ---------------------------------------------------------------------------------------------

/** An error reply on the wire. The host turns it into a TetherError (unknown code → PROTOCOL_REMOTE_ERROR). */
export interface ErrorReply {
  /** A code from the error catalogue, ASCII [A-Z0-9_], ≤ 64 chars. */
  readonly code: string;
  /** Human text, ≤ 512 chars, never a secret. */
  readonly message: string;
}
