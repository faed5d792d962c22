import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The lab pool's internal seams. `lab/index.ts` builds one LabContext and starts every service in
 * `lab/services.ts` with it; each service module owns its wire form and its own tests.
 */

/** Faults named after the troubleshooting items in ../shared/reference/lync-protocols.md §7. */
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
  'slow-responses', // every HTTP answer is delayed (see LabFaults.slowMs)
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];

export interface LabFaults {
  has(fault: FaultName): boolean;
  set(fault: FaultName, on: boolean): void;
  list(): FaultName[];
  /** Delay applied to every HTTP answer while 'slow-responses' is on. */
  slowMs: number;
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
  issueServerCert(dnsNames: string[], options?: { expired?: boolean }): LabCertificate;
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
  /** Certificates published to the user store (PEM), newest last. */
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
  publish(user: LabUser, certPem: string): void;
  unlock(user: LabUser): void;
  /** Persists to the state folder. */
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
