import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecureContext, Server as TlsServer } from 'node:tls';

/**
 * The lab pool's internal seams. `lab/index.ts` builds one LabContext and starts every service in
 * `lab/services.ts` with it; each service module owns its wire form and its own tests.
 */

/** Faults named after the troubleshooting items in docs/reference.md §7. */
export const FAULT_NAMES = [
  'srv-missing', // no _sipinternaltls/_sipinternal SRV records (stage 5 falls back)
  'option43-wrong', // the DHCP option 43 the lab hands out points at a wrong Web Services FQDN
  'chain-download-off', // anonymous CertProv chain download disabled (EnableCertChainDownload off)
  'server-cert-expired', // HTTPS/SIP servers present an expired certificate
  'server-cert-wrong-name', // HTTPS/SIP servers present a certificate for another name
  'intermediate-missing', // servers and the chain download omit the intermediate CA
  'account-locked', // every user's account is locked (as after too many bad PINs)
  'publish-store-unavailable', // GetAndPublishCert issues but cannot publish ("data store unavailable")
  'registrar-unreachable', // the registrar refuses connections
  'device-update-500', // the Device Update handler answers HTTP 500
  'slow-responses', // every HTTP and SIP answer is delayed (see LabFaults.slowMs)
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];

export interface LabFaults {
  has(fault: FaultName): boolean;
  set(fault: FaultName, on: boolean): void;
  list(): FaultName[];
  /** Delay applied to every HTTP and SIP answer while 'slow-responses' is on. */
  slowMs: number;
  /** Calls `listener` after every change (set, or slowMs); returns an unsubscribe function. */
  onChange(listener: (fault: FaultName | 'slowMs', on: boolean) => void): () => void;
}

export interface LabCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface LabCa {
  /** Self-signed root. */
  readonly rootCertPem: string;
  /** Intermediate signed by the root; it signs every server and user certificate. */
  readonly intermediateCertPem: string;
  /** The chain a client needs besides a leaf: [intermediate, root]. */
  chainPems(): string[];
  /** SHA-256 fingerprint of the root's DER, upper-case hex with colons (as a pin is shown). */
  readonly rootFingerprint: string;
  /** A server certificate (key made here) for the given DNS names, optionally expired. */
  issueServerCert(dnsNames: string[], options?: { expired?: boolean; ips?: string[] }): LabCertificate;
  /**
   * Verifies a PKCS#10 request's signature and issues a client certificate for `sipUri`
   * (subject CN=<sipUri>, SAN URI), valid for `validityHours`. Returns PEM.
   */
  issueFromCsr(csrPem: string, sipUri: string, validityHours: number): string;
}

export interface LabUser {
  readonly sipUri: string; // sip:alice@contoso.test
  readonly domain: string; // CONTOSO (NetBIOS)
  readonly username: string; // alice
  readonly password: string;
  readonly phoneNumber: string; // +14255550101
  readonly extension: string; // 101
  readonly pin: string;
  badPinCount: number;
  locked: boolean;
  /** Certificates published to the user store (PEM): the current one per device, least recently published first. */
  published: string[];
}

export interface LabUsers {
  all(): LabUser[];
  byNtlm(domain: string, username: string): LabUser | undefined;
  bySipUri(sipUri: string): LabUser | undefined;
  /** Phone number (any format that normalises to the same digits) or extension. */
  byPhoneOrExtension(numberOrExt: string): LabUser | undefined;
  /** Checks a PIN, counting failures and locking the account after `lockoutThreshold` bad PINs. */
  checkPin(user: LabUser, pin: string): 'ok' | 'bad-pin' | 'locked';
  readonly lockoutThreshold: number;
  /** Publishes `certPem` as the device's current certificate (replacing that device's previous one). */
  publish(user: LabUser, certPem: string, deviceId?: string): void;
  unlock(user: LabUser): void;
  /** True when the user is locked, or when the 'account-locked' fault locks every account. */
  isLocked(user: LabUser): boolean;
  /** Persists to the state folder (checkPin, publish and unlock also persist on their own). */
  save(): Promise<void>;
}

export interface RouteInfo {
  readonly secure: boolean;
  readonly url: URL;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, info: RouteInfo) => void | Promise<void>;

export interface LabRoutes {
  /**
   * Serves `path` (exact match, or prefix match when it ends with '/*') for `method` on the lab's
   * HTTP and/or HTTPS listener.
   */
  add(method: string, path: string, handler: RouteHandler, on?: { http?: boolean; https?: boolean }): void;
}

/** A record a service may add to the lab's DNS zone (names are case-insensitive, no trailing dot). */
export type LabDnsRecord =
  | { readonly name: string; readonly type: 'A'; readonly address: string; readonly ttl?: number }
  | { readonly name: string; readonly type: 'AAAA'; readonly address: string; readonly ttl?: number }
  | {
      readonly name: string;
      readonly type: 'SRV';
      readonly target: string;
      readonly port: number;
      readonly priority?: number;
      readonly weight?: number;
      readonly ttl?: number;
    }
  | { readonly name: string; readonly type: 'TXT'; readonly text: string; readonly ttl?: number };

export type LabDnsRecordType = LabDnsRecord['type'];

/** The lab's authoritative DNS server (UDP and TCP on `host`:`port`). */
export interface LabDns {
  /** `host:port`, as `createPoolResolver({ server })` and `dns.Resolver#setServers` take it. */
  readonly server: string;
  readonly port: number;
  /** Adds a record (a duplicate of an existing record is ignored). */
  add(record: LabDnsRecord): void;
  /** Removes every record at `name` (of `type`, when given). */
  remove(name: string, type?: LabDnsRecordType): void;
  /** The records at `name` (of `type`), as the server would answer them now (faults applied). */
  lookup(name: string, type?: LabDnsRecordType): LabDnsRecord[];
  /**
   * Points the pool's SIP SRV records for a transport at `port` on the pool FQDN: 'tls' sets
   * _sipinternaltls._tcp and _sip._tls, 'tcp' sets _sipinternal._tcp and _sip._tcp. The registrar
   * calls this once it listens; until then they name the standard ports 5061 and 5060.
   */
  setSipPort(transport: 'tls' | 'tcp', port: number): void;
}

/** What the lab's TLS servers present, honouring the certificate faults. */
export interface LabTls {
  /** Names on the pool's server certificate (poolFqdn, ucupdates-r2.<domain>, sipinternal.<domain>, …). */
  readonly serverNames: readonly string[];
  /**
   * Key and certificate chain to present now: leaf + intermediate, or leaf alone under
   * 'intermediate-missing'; the leaf is expired / for another name under the matching faults.
   */
  current(): { key: string; cert: string };
  /** A SecureContext for current(). */
  secureContext(): SecureContext;
  /** Presents current() on `server` now and after every fault change; returns a detach function. */
  attach(server: TlsServer): () => void;
}

/**
 * The DHCP option values the lab hands out (lab/dhcp), as raw bytes: what the lab's DHCPINFORM
 * responder puts in a DHCPACK, and what a virtual phone configured from the lab reports it got.
 */
export interface LabDhcpOptions {
  /** Option 43 for vendor class MS-UC-Client: sub-options 1–5 (the CertProv URL) [S2][S3]. */
  readonly option43: Uint8Array;
  /** Option 120 (RFC 3361, encoding 0): the pool FQDN [S1][S2]. */
  readonly option120: Uint8Array;
  /** Option 43 for vendor class CPE-OCPHONE: sub-option 10, the voice VLAN ID; null when off. */
  readonly vlanOption43: Uint8Array | null;
  /** What option 43 says, assembled: `https://<WebServerFqdn>:<WebServerPort>/CertProv/…`. */
  readonly certProvUrl: string;
  readonly webServerFqdn: string;
  /** The name in option 120. */
  readonly sipServer: string;
  readonly vlanId: number | null;
}

/** Settings of the lab's DHCP responder. */
export interface LabDhcpSettings {
  /** UDP port on 127.0.0.1; 0 takes a free one (67 needs root and clashes with a real server). */
  readonly port: number;
  /** VLAN ID answered to CPE-OCPHONE informs (1–4094), or null to answer them not at all. */
  readonly vlanId: number | null;
}

export interface LabContext {
  /** SIP domain, e.g. contoso.test. */
  readonly domain: string;
  /** The Front End pool's FQDN, e.g. pool01.contoso.test. */
  readonly poolFqdn: string;
  /** Folder holding the lab's state (CA, users, Device Update store); survives restarts. */
  readonly stateDir: string;
  readonly ca: LabCa;
  readonly users: LabUsers;
  readonly faults: LabFaults;
  readonly routes: LabRoutes;
  /** The lab's HTTP and HTTPS base URLs, e.g. http://pool01.contoso.test:18080 */
  readonly httpBase: string;
  readonly httpsBase: string;
  /** Address the lab's listeners bind to (127.0.0.1). */
  readonly host: string;
  /** The lab's DNS server and zone; services add their records here. */
  readonly dns: LabDns;
  /** The server certificate (and its faults) for any TLS listener a service opens. */
  readonly tls: LabTls;
  /** The DHCP responder's settings (lab/dhcp). */
  readonly dhcp: LabDhcpSettings;
  /**
   * The lab's external view (lab/external), when it runs: the external Web Services FQDN and
   * `https://<fqdn>:<port>`, e.g. for the external Device Update URL handed out in-band.
   */
  readonly external?: { readonly fqdn: string; readonly httpsBase: string };
  /** The option 43/120 bytes the lab hands out right now ('option43-wrong' applied); fresh copies. */
  dhcpOptions(): LabDhcpOptions;
  log(message: string): void;
}

export interface LabServiceHandle {
  /** Endpoints this service adds to the lab's first JSON line, e.g. { sip: 'sip:pool01…:5061' }. */
  readonly endpoints?: Readonly<Record<string, string | number>>;
  stop(): Promise<void>;
}

export interface LabService {
  readonly name: string;
  start(ctx: LabContext): Promise<LabServiceHandle>;
}
