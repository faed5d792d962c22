import { createPublicKey, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureVersion } from 'node:tls';
import { TetherError } from '../../../common/errors';
import { encodeBody, utf8Prefix } from '../../protocol/codec';
import { ed25519KeyPair, rawEd25519PublicKey, signEd25519, type PhonePairingKeys } from '../../protocol/known-peers';
import type { PairingMethod } from '../../protocol/api';
import { registrationCodec } from '../../protocol/message-schemas';
import type { PhoneModel } from '../../usb/catalogue';
import type {
  BulkChunk,
  CredentialsRequest,
  DeviceIdentity,
  DeviceStatus,
  EventName,
  Events,
  FirmwareBeginReply,
  FirmwareBeginRequest,
  FirmwareSlotReply,
  FirmwareStatusReply,
  FirmwareVerifyReply,
  InBandAddresses,
  InstallCaChainReply,
  InstallCertificateReply,
  IpLease,
  LogsReply,
  PoolEndpoints,
  RegistrationStatus,
} from '../../protocol/messages';
import { FirmwareSlots, factoryFirmware, DEFAULT_MAX_IMAGE_BYTES } from './firmware';
import { identityOf } from './identity';
import { makeCsr, makeRsaKeyPair, verifyCaChain, verifyIssuedCertificate, type PhoneKeyPair } from './pki';
import { MAX_KNOWN_HOSTS, pairingKeyName, type KnownHostRecord, type PersistedPhone, type PhoneStore } from './store';

/** What the phone learnt on its network port (stages 1–2). Raw DHCP bytes, exactly as received. */
export interface PhoneNetworkConfig {
  readonly vlan?: number | null;
  readonly vlanSource?: 'lldp' | 'dhcp' | 'configured' | null;
  readonly lease?: IpLease | null;
  /** DHCP option 43 payload (e.g. common/pool/dhcp-options encodeUcClientOption43). */
  readonly option43?: Uint8Array | null;
  /** DHCP option 120 payload (e.g. encodeOption120). */
  readonly option120?: Uint8Array | null;
}

/** One sign-in attempt, handed to the registrar seam (stage 9). */
export interface RegistrationAttempt {
  readonly sipUri: string;
  readonly registrar: { readonly fqdn: string; readonly port: number };
  /** DER certificate and the installed CA chain (root first). */
  readonly certificate: Uint8Array;
  readonly caChain: readonly Uint8Array[];
  /**
   * A TLS context holding the phone's certificate and key and trusting its installed CA chain, for
   * the TLS-DSK handshake inside SIP; `tls` sets its versions and suites (TLS_DSK_INNER_TLS). The
   * key is not otherwise reachable.
   */
  secureContext(tls?: { readonly minVersion?: SecureVersion; readonly maxVersion?: SecureVersion; readonly ciphers?: string }): SecureContext;
}

export interface RegistrationResult {
  readonly ok: boolean;
  /** SIP status of the final answer (200, 401, 403, 504 …), or null when no answer came. */
  readonly sipStatus: number | null;
  /** ms-diagnostics text, never a secret. */
  readonly diagnostics: string | null;
  /**
   * After a successful sign-in: sign in again after this many milliseconds, before the
   * registration lapses and before the TLS-DSK security association expires (MS-SIPAE §3.2.2).
   */
  readonly renewAfterMs?: number;
  /** After a successful sign-in: the addresses in-band provisioning gave the phone (reported in its status). */
  readonly provisioning?: InBandAddresses | null;
}

/**
 * Stage 9 seam: connects to the registrar and signs in. A later issue wires it to the lab's
 * registrar; without one the phone does not try to sign in (it never fakes a result).
 */
export type RegistrarConnector = (attempt: RegistrationAttempt) => Promise<RegistrationResult>;

export interface VirtualPhoneOptions {
  readonly model: PhoneModel;
  readonly serial: string;
  readonly store: PhoneStore;
  readonly network?: PhoneNetworkConfig;
  readonly registrar?: RegistrarConnector;
  /** Wall-clock time for certificate dates and log lines. */
  readonly now?: () => Date;
  /** Firmware slot size. */
  readonly maxImageBytes?: number;
  /**
   * Runs `run` after `delayMs` and returns its cancel; for the re-sign-in after a successful one
   * (default: an unref'd setTimeout; tests pass a fake to step time).
   */
  readonly renewalTimer?: RenewalTimer;
}

export type RenewalTimer = (delayMs: number, run: () => void) => () => void;

const realRenewalTimer: RenewalTimer = (delayMs, run) => {
  const t = setTimeout(run, delayMs);
  t.unref();
  return () => clearTimeout(t);
};

/** Credentials as the phone holds them: in memory only, secret bytes zeroed when dropped. */
type HeldCredentials =
  | { readonly kind: 'pin'; readonly extension: string; readonly secret: Buffer }
  | { readonly kind: 'ntlm'; readonly domain: string; readonly user: string; readonly sipUri: string; readonly secret: Buffer };

const LOG_LIMIT_BYTES = 64 * 1024;

function b64(der: Uint8Array): string {
  return Buffer.from(der).toString('base64');
}

function unb64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function formatSas(sas: string): string {
  return sas.length === 6 ? `${sas.slice(0, 3)} ${sas.slice(3)}` : sas;
}

/**
 * A Lync phone's state and behaviour, without USB: identity, network results, firmware slots,
 * trust (CA chain), key pair and certificate, pool endpoints, credentials (memory only), display,
 * registration and logs. `load` powers it on from its store; `powerOn` runs the boot loader.
 * The protocol handlers (handlers.ts) call these methods; tests call them directly.
 */
export class VirtualPhone {
  readonly model: PhoneModel;
  readonly serial: string;
  readonly firmware: FirmwareSlots;
  private readonly store: PhoneStore;
  private readonly network: PhoneNetworkConfig;
  private readonly registrar: RegistrarConnector | undefined;
  private readonly now: () => Date;

  private caChain: Uint8Array[];
  private certificate: { der: Uint8Array; chain: Uint8Array[] } | null;
  private poolEndpoints: PoolEndpoints | null;
  private logLines: string[];
  private knownHosts: KnownHostRecord[];
  private credentials: HeldCredentials | null = null;
  private csrSubject: string | null = null;
  private keyPair: PhoneKeyPair | null = null;
  private registration: RegistrationStatus = { state: 'unregistered', sipUri: null, registrar: null, sipStatus: null, diagnostics: null, provisioning: null };
  private overlay: string | null = null;
  private displayNow = '';
  private listeners = new Set<<E extends EventName>(event: E, payload: Events[E]) => void>();
  private saving: Promise<void> = Promise.resolve();
  /** Cancels the pending re-sign-in after a successful one. */
  private renewal: (() => void) | null = null;
  private readonly renewalTimer: RenewalTimer;

  private constructor(options: VirtualPhoneOptions, record: PersistedPhone) {
    this.model = options.model;
    this.serial = options.serial;
    this.store = options.store;
    this.network = options.network ?? {};
    this.registrar = options.registrar;
    this.now = options.now ?? (() => new Date());
    this.renewalTimer = options.renewalTimer ?? realRenewalTimer;
    this.caChain = record.caChain.map(unb64);
    this.certificate = record.certificate ? { der: unb64(record.certificate.der), chain: record.certificate.chain.map(unb64) } : null;
    this.poolEndpoints = record.poolEndpoints;
    this.logLines = [...record.log];
    // A record from before §5.7 has none; a damaged entry is dropped (that PC just shows a code again).
    this.knownHosts = (Array.isArray(record.knownHosts) ? record.knownHosts : []).filter(
      (h) => typeof h?.key === 'string' && /^[0-9a-f]{64}$/.test(h.key) && typeof h.pairedAt === 'string' && typeof h.lastUsed === 'string',
    );
    this.firmware = new FirmwareSlots(
      record.firmware,
      { store: options.store, serial: options.serial, save: () => this.save(), log: (l) => this.log(l) },
      options.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES,
    );
  }

  /** Reads the phone's flash (or starts from factory state) and boots it. */
  static async load(options: VirtualPhoneOptions, bootOptions: { newImageFails?: () => boolean } = {}): Promise<VirtualPhone> {
    const found = await options.store.load(options.serial);
    if (found && found.modelId !== options.model.id) {
      throw new TetherError('BAD_INPUT', `Serial ${options.serial} is stored as a ${found.modelId}, not a ${options.model.id}.`, {
        detail: { serial: options.serial, stored: found.modelId, asked: options.model.id },
      });
    }
    const record: PersistedPhone = found ?? {
      format: 1,
      modelId: options.model.id,
      serial: options.serial,
      firmware: factoryFirmware(options.model.firmwareVersion),
      caChain: [],
      certificate: null,
      poolEndpoints: null,
      log: [],
      knownHosts: [],
    };
    const phone = new VirtualPhone(options, record);
    await phone.powerOn(bootOptions.newImageFails ?? (() => false));
    return phone;
  }

  /** Power-on: boot loader, flash checks, then (if it can) sign in. Volatile state starts empty. */
  private async powerOn(newImageFails: () => boolean): Promise<void> {
    this.log(`boot: ${this.model.name} serial ${this.serial}`);
    await this.firmware.reconcile();
    const boot = await this.firmware.boot(newImageFails);
    this.log(`boot: running ${boot.version} from slot ${boot.slot}`);
    if (this.certificate && !this.store.keys.get(this.serial)) {
      // The key lives only in memory (PhoneKeyVault); without it the certificate is useless.
      this.certificate = null;
      this.log('boot: certificate dropped: its key pair is gone (the phone lost power)');
    }
    if (!this.store.keys.get(pairingKeyName(this.serial))) {
      // Remembered PCs trusted the old pairing key; with a new one they must pair by code again.
      if (this.knownHosts.length > 0) this.log(`boot: ${this.knownHosts.length} remembered PC(s) forgotten: the pairing key is gone`);
      this.knownHosts = [];
      this.store.keys.set(pairingKeyName(this.serial), ed25519KeyPair().privateKey);
    }
    await this.save();
    this.refreshDisplay();
    void this.signIn('boot');
  }

  // ---------------------------------------------------------------- observation

  get identity(): DeviceIdentity {
    return identityOf(this.model, this.serial, this.firmware.runningVersion);
  }

  get displayText(): string {
    return this.displayNow;
  }

  get hasCredentials(): boolean {
    return this.credentials !== null;
  }

  get installedChain(): readonly Uint8Array[] {
    return this.caChain;
  }

  get installedCertificate(): Uint8Array | null {
    return this.certificate?.der ?? null;
  }

  get endpoints(): PoolEndpoints | null {
    return this.poolEndpoints;
  }

  /** Subscribes to the phone's events (display, status, registration); returns the unsubscribe function. */
  onEvent(listener: <E extends EventName>(event: E, payload: Events[E]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): DeviceStatus {
    const n = this.network;
    return {
      vlan: n.vlan ?? null,
      vlanSource: n.vlanSource ?? (n.vlan ? 'configured' : null),
      ip: n.lease ?? null,
      dhcpOption43: n.option43 ? n.option43.slice() : null,
      dhcpOption120: n.option120 ? n.option120.slice() : null,
      registration: this.registration,
      displayText: this.displayNow,
    };
  }

  logs(maxBytes: number): LogsReply {
    const text = this.logLines.join('\n');
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.byteLength <= maxBytes) return { text, truncated: false };
    // Cut at a line start so no line is half shown.
    let tail = bytes.subarray(bytes.byteLength - maxBytes).toString('utf8');
    const nl = tail.indexOf('\n');
    if (nl >= 0) tail = tail.slice(nl + 1);
    return { text: tail, truncated: true };
  }

  // ---------------------------------------------------------------- pairing and display

  /** The session knows the pairing code: show it until the host confirms. */
  showPairingCode(sas: string): void {
    this.overlay = `Pair with this PC?\nCode: ${formatSas(sas)}`;
    this.log('pairing: code shown on the display');
    this.refreshDisplay();
  }

  paired(method: PairingMethod = 'code'): void {
    this.overlay = null;
    this.log(method === 'code' ? 'pairing: confirmed by the PC' : 'pairing: a remembered PC proved its key (no code)');
    this.refreshDisplay();
  }

  /**
   * The phone's side of known hosts (docs/tether-protocol.md §5.7): its long-term key lives in the
   * key vault (memory), the remembered PCs' public keys in flash, at most MAX_KNOWN_HOSTS.
   */
  get pairingKeys(): PhonePairingKeys {
    const privateKey = this.store.keys.get(pairingKeyName(this.serial));
    if (!privateKey) throw new TetherError('INTERNAL', 'The virtual phone has no pairing key.');
    const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex');
    return {
      publicKey: rawEd25519PublicKey(privateKey),
      sign: (message) => signEd25519(privateKey, message),
      knows: (hostKey) => this.knownHosts.some((h) => h.key === hex(hostKey)),
      remember: (hostKey) => this.rememberHost(hex(hostKey)),
      used: (hostKey) => this.rememberHost(hex(hostKey)),
    };
  }

  /** PCs that pair without a code, least recently used first. */
  get rememberedHosts(): readonly KnownHostRecord[] {
    return this.knownHosts;
  }

  /** The phone's "forget paired PCs" menu: every PC shows a code again. */
  async forgetHosts(): Promise<void> {
    this.knownHosts = [];
    this.log('pairing: every remembered PC forgotten');
    await this.save();
  }

  private rememberHost(key: string): void {
    const at = this.now().toISOString();
    const old = this.knownHosts.find((h) => h.key === key);
    this.knownHosts = [...this.knownHosts.filter((h) => h.key !== key), { key, pairedAt: old?.pairedAt ?? at, lastUsed: at }];
    if (!old) this.log(`pairing: this PC remembered (${this.knownHosts.length} of at most ${MAX_KNOWN_HOSTS})`);
    while (this.knownHosts.length > MAX_KNOWN_HOSTS) {
      this.knownHosts.shift();
      this.log('pairing: the least recently used PC forgotten');
    }
    // Flash write failures surface at the next save or boot; the session goes on.
    void this.save().catch(() => {});
  }

  /** The USB session ended: nothing pairing-related stays on screen. */
  sessionEnded(): void {
    if (this.overlay?.startsWith('Pair')) {
      this.overlay = null;
      this.refreshDisplay();
    }
  }

  // ---------------------------------------------------------------- operations

  async setPoolEndpoints(endpoints: PoolEndpoints): Promise<void> {
    for (const url of [endpoints.webServicesInternal, endpoints.webServicesExternal, endpoints.deviceUpdateInternal, endpoints.deviceUpdateExternal]) {
      if (url === null) continue;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new TetherError('DEVICE_POOL_ENDPOINTS_REJECTED', `"${url}" is not a URL.`);
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TetherError('DEVICE_POOL_ENDPOINTS_REJECTED', `"${url}" is not an http(s) URL.`);
    }
    const r = endpoints.registrar;
    if (r && (/^\d+\.\d+\.\d+\.\d+$/.test(r.fqdn) || !r.fqdn.includes('.') || !Number.isInteger(r.port) || r.port < 1 || r.port > 65535)) {
      // Lync phones need a registrar FQDN, never an IP address (docs/reference.md §1 [S2][S6]).
      throw new TetherError('DEVICE_POOL_ENDPOINTS_REJECTED', `The registrar must be an FQDN and a port 1–65535, not "${r.fqdn}:${r.port}".`);
    }
    const before = this.poolEndpoints?.registrar ?? null;
    this.poolEndpoints = endpoints;
    this.log(`pool: registrar ${r ? `${r.fqdn}:${r.port}` : 'none'}, web services ${endpoints.webServicesInternal ?? endpoints.webServicesExternal ?? 'none'}`);
    await this.save();
    // A phone told to use another Registrar (signing in from outside, through the Edge) signs in
    // there with the certificate it holds, as it does after a reboot.
    if (r && (before === null || before.fqdn.toLowerCase() !== r.fqdn.toLowerCase() || before.port !== r.port)) void this.signIn('endpoints');
  }

  async installCaChain(certificates: readonly Uint8Array[]): Promise<InstallCaChainReply> {
    const fingerprints = verifyCaChain(certificates, this.now());
    this.caChain = certificates.map((c) => c.slice());
    this.log(`trust: installed a CA chain of ${certificates.length} certificate(s), root ${fingerprints[0]}`);
    await this.save();
    return { fingerprints };
  }

  async setCredentials(request: CredentialsRequest): Promise<void> {
    if (request.kind === 'pin' && !this.model.pinAuth) {
      throw new TetherError('DEVICE_CREDENTIALS_REJECTED', `A ${this.model.name} cannot sign in with a PIN; use Windows credentials.`);
    }
    this.dropCredentials();
    this.credentials =
      request.kind === 'pin'
        ? { kind: 'pin', extension: request.extension, secret: Buffer.from(request.pin, 'utf8') }
        : { kind: 'ntlm', domain: request.domain, user: request.user, sipUri: request.sipUri, secret: Buffer.from(request.password, 'utf8') };
    this.log(request.kind === 'pin' ? `auth: PIN credentials for ${request.extension} held in memory` : `auth: Windows credentials for ${request.domain}\\${request.user} held in memory`);
  }

  async makeKeyPair(subject: string, keyBits: number): Promise<Uint8Array> {
    if (![1024, 2048, 4096].includes(keyBits)) throw new TetherError('DEVICE_BAD_REQUEST', `Key size ${keyBits} is not 1024, 2048 or 4096.`);
    if (subject.length === 0 || subject.length > 256) throw new TetherError('DEVICE_BAD_REQUEST', 'The subject must be 1–256 characters.');
    const keys = await makeRsaKeyPair(keyBits);
    const csr = makeCsr(keys, subject);
    this.store.keys.set(this.serial, keys.privateKey);
    this.keyPair = keys;
    this.csrSubject = subject;
    // A new key pair invalidates a certificate made for the old one.
    if (this.certificate) {
      this.certificate = null;
      await this.save();
    }
    this.log(`certificate: made an RSA-${keyBits} key pair and a request for ${subject}`);
    return csr;
  }

  private currentKeys(): PhoneKeyPair | null {
    if (this.keyPair) return this.keyPair;
    const privateKey = this.store.keys.get(this.serial);
    if (!privateKey) return null;
    this.keyPair = { privateKey, publicKey: createPublicKey(privateKey) };
    return this.keyPair;
  }

  async installCertificate(certificate: Uint8Array, chain: readonly Uint8Array[]): Promise<InstallCertificateReply> {
    const keys = this.currentKeys();
    if (!keys) throw new TetherError('DEVICE_NO_KEY_PAIR');
    const thumbprint = verifyIssuedCertificate(certificate, chain, this.caChain, keys, this.now());
    this.certificate = { der: certificate.slice(), chain: chain.map((c) => c.slice()) };
    this.log(`certificate: installed ${thumbprint}`);
    await this.save();
    void this.signIn('certificate');
    return { thumbprint };
  }

  async wipe(includeCertificate: boolean): Promise<void> {
    this.cancelRenewal();
    this.dropCredentials();
    this.poolEndpoints = null;
    this.caChain = [];
    this.csrSubject = null;
    this.setRegistration({ state: 'unregistered', sipUri: null, registrar: null, sipStatus: null, diagnostics: null, provisioning: null });
    if (includeCertificate) {
      this.certificate = null;
      this.keyPair = null;
      this.store.keys.delete(this.serial);
    }
    // A wiped phone shows a code to every PC again, and is no longer the phone they remember.
    this.knownHosts = [];
    this.store.keys.set(pairingKeyName(this.serial), ed25519KeyPair().privateKey);
    this.log(`wipe: user data, remembered PCs${includeCertificate ? ', key pair and certificate' : ''} erased`);
    await this.save();
  }

  // firmware --------------------------------------------------------

  firmwareStatus(): FirmwareStatusReply {
    return this.firmware.status();
  }

  firmwareBegin(request: FirmwareBeginRequest): Promise<FirmwareBeginReply> {
    return this.firmware.begin(request);
  }

  async firmwareData(chunk: BulkChunk): Promise<number> {
    const have = await this.firmware.write(chunk);
    const r = this.firmware.receiving;
    if (r) {
      const pct = Math.floor((100 * r.have) / r.size);
      const text = `Updating firmware… ${pct}%`;
      if (this.overlay !== text && (this.overlay === null || this.overlay.startsWith('Updating'))) {
        this.overlay = text;
        this.refreshDisplay();
      }
    }
    return have;
  }

  async firmwareVerify(transferId: number): Promise<FirmwareVerifyReply> {
    try {
      return await this.firmware.verify(transferId);
    } finally {
      if (this.overlay?.startsWith('Updating')) {
        this.overlay = null;
        this.refreshDisplay();
      }
    }
  }

  firmwareActivate(transferId: number) {
    return this.firmware.activate(transferId);
  }

  firmwareCommit(): Promise<FirmwareSlotReply> {
    return this.firmware.commit();
  }

  firmwareRollback(): Promise<FirmwareSlotReply> {
    return this.firmware.rollback();
  }

  /** The phone is about to lose power (reboot, unplug of a bus-powered phone): memory goes. */
  async shutdown(reason: string): Promise<void> {
    this.cancelRenewal();
    this.dropCredentials();
    this.keyPair = null;
    this.log(`power: ${reason}`);
    await this.save();
  }

  // ---------------------------------------------------------------- internals

  log(line: string): void {
    this.logLines.push(`${this.now().toISOString()} ${line}`);
    let total = this.logLines.reduce((n, l) => n + l.length + 1, 0);
    while (total > LOG_LIMIT_BYTES && this.logLines.length > 1) total -= this.logLines.shift()!.length + 1;
  }

  private dropCredentials(): void {
    if (this.credentials) this.credentials.secret.fill(0);
    this.credentials = null;
  }

  /** Cancels the pending re-sign-in, if any (sign-out, power loss, a new sign-in). */
  private cancelRenewal(): void {
    this.renewal?.();
    this.renewal = null;
  }

  private async signIn(why: 'boot' | 'certificate' | 'renewal' | 'endpoints'): Promise<void> {
    this.cancelRenewal();
    const cert = this.certificate;
    const registrar = this.poolEndpoints?.registrar ?? null;
    const keys = this.currentKeys();
    if (!cert || !registrar || !keys) return;
    const sipUri = [sipUriOf(cert.der), this.csrSubject].find(isStatusSipUri);
    if (!sipUri) {
      // Reported in status as it is, a name that is no sip:user@domain would break every status reply.
      this.log(`sign-in: the certificate names no sip:user@domain address; not signing in (${why})`);
      return;
    }
    if (!this.registrar) {
      this.log(`sign-in: no registrar connection in this virtual phone; not signing in as ${sipUri} (${why})`);
      return;
    }
    // A renewal happens while signed in: the display and status stay as they are until its outcome.
    if (why !== 'renewal') this.setRegistration({ state: 'registering', sipUri, registrar: registrar.fqdn, sipStatus: null, diagnostics: null, provisioning: null });
    const caChain = this.caChain;
    const chainPem = [...cert.chain, ...caChain].map(pem);
    try {
      const result = await this.registrar({
        sipUri,
        registrar,
        certificate: cert.der,
        caChain,
        secureContext: (tls = {}) =>
          createSecureContext({
            cert: [pem(cert.der), ...cert.chain.map(pem)].join(''),
            key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }),
            ca: chainPem,
            ...tls,
          }),
      });
      this.setRegistration({
        state: result.ok ? 'registered' : 'failed',
        sipUri,
        registrar: registrar.fqdn,
        sipStatus: result.sipStatus,
        diagnostics: result.diagnostics,
        provisioning: result.ok ? inBandOf(result.provisioning) : null,
      });
      // A real phone stays signed in: it signs in again before the registration lapses and before
      // the TLS-DSK security association expires (MS-SIPAE §3.2.2), with a new handshake.
      if (result.ok && result.renewAfterMs !== undefined && this.certificate === cert) {
        this.renewal = this.renewalTimer(Math.max(1000, result.renewAfterMs), () => void this.signIn('renewal'));
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.setRegistration({ state: 'failed', sipUri, registrar: registrar.fqdn, sipStatus: null, diagnostics: message, provisioning: null });
    }
    this.log(`sign-in: ${this.registration.state}${this.registration.sipStatus ? ` (${this.registration.sipStatus})` : ''}`);
  }

  private setRegistration(next: RegistrationStatus): void {
    // Whatever the registrar seam said must still fit the status schema, or every status reply fails.
    this.registration = { ...next, diagnostics: next.diagnostics === null ? null : diagnosticsText(next.diagnostics) };
    this.emit('registration', this.registration);
    if (!this.refreshDisplay()) this.emit('status', this.status());
  }

  /** Recomputes the display; on a change sends `display` and `status` events. True if it changed. */
  private refreshDisplay(): boolean {
    const r = this.registration;
    const line =
      r.state === 'registered' ? `Signed in\n${r.sipUri ?? ''}`
      : r.state === 'registering' ? 'Signing in…'
      : r.state === 'failed' ? `Sign-in failed${r.sipStatus ? ` (${r.sipStatus})` : ''}`
      : 'Not signed in';
    const text = this.overlay ?? `${this.model.name}\n${line}`;
    if (text === this.displayNow) return false;
    this.displayNow = text;
    this.emit('display', { text });
    this.emit('status', this.status());
    return true;
  }

  private emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const l of [...this.listeners]) l(event, payload);
  }

  private save(): Promise<void> {
    const record: PersistedPhone = {
      format: 1,
      modelId: this.model.id,
      serial: this.serial,
      firmware: this.firmware.record,
      caChain: this.caChain.map(b64),
      certificate: this.certificate ? { der: b64(this.certificate.der), chain: this.certificate.chain.map(b64) } : null,
      poolEndpoints: this.poolEndpoints,
      log: this.logLines,
      knownHosts: this.knownHosts,
    };
    // Saves are ordered, so an older record never overwrites a newer one.
    const run = this.saving.then(() => this.store.save(record));
    this.saving = run.catch(() => {});
    return run;
  }
}

/** True when `uri` is a SIP URI the status schema accepts (checked by the schema itself). */
function isStatusSipUri(uri: string | null): uri is string {
  if (uri === null) return false;
  try {
    encodeBody(registrationCodec, { state: 'registering', sipUri: uri, registrar: null, sipStatus: null, diagnostics: null, provisioning: null });
    return true;
  } catch {
    return false;
  }
}

/**
 * In-band addresses as the status schema takes them (FQDN, http(s) URLs of at most 2048 bytes):
 * whatever a registrar sent that does not fit is not reported, so every status reply still encodes.
 */
function inBandOf(p: InBandAddresses | null | undefined): InBandAddresses | null {
  if (!p) return null;
  const only: InBandAddresses = { registrarFqdn: p.registrarFqdn, deviceUpdateInternalUrl: p.deviceUpdateInternalUrl, deviceUpdateExternalUrl: p.deviceUpdateExternalUrl };
  try {
    encodeBody(registrationCodec, { state: 'registered', sipUri: null, registrar: null, sipStatus: null, diagnostics: null, provisioning: only });
    return only;
  } catch {
    return null;
  }
}

/** Registration diagnostics as the status schema takes them: no control characters, at most 1024 UTF-8 bytes. */
function diagnosticsText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  return utf8Prefix(text.replace(/[\x00-\x1f\x7f]/g, ' '), 1024);
}

function pem(der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

/** The SIP URI a certificate was issued for: a SAN URI, else the subject CN (as Lync issues them). */
export function sipUriOf(der: Uint8Array): string | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return null;
  }
  const san = /URI:(sip:[^,\s]+)/i.exec(cert.subjectAltName ?? '');
  if (san) return san[1]!;
  const cn = /(?:^|\n)CN=(sip:[^\n]+)/i.exec(cert.subject);
  return cn ? cn[1]! : null;
}
