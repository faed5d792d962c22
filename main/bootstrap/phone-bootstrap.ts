import { createPublicKey, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { isErrorCode, TetherError, toTetherError, type ErrorCode } from '../../common/errors';
import { decodeOption120, decodeUcClientOption43, decodeVlanOption43 } from '../../common/pool/dhcp-options';
import { OPTION, type DhcpPacket } from '../../common/pool/dhcp-packet';
import type { StageId } from '../../common/stages';
import { realTimers, type DeviceStatus, type PairingInfo, type RegistrationStatus, type SessionTimers } from '../../native/protocol';
import { BUILT_IN_CATALOGUE, findModel, type PhoneModel } from '../../native/usb/catalogue';
import type { AttachedPhone } from '../device/attach';
import { fileImage } from '../device/firmware-image';
import { pushFirmware, type FirmwareProgress } from '../device/firmware-push';
import type { PhoneProvider } from '../device/manager';
import type { IssuedWebTicket, WebTicketAuth } from '../pool/auth/webticket';
import { normaliseFingerprint } from '../pool/chain';
import { readPoolAnswer, type DhcpPoolAnswer } from '../pool/discovery/dhcp-answer';
import { PoolHttpClient, type PoolHttpOptions } from '../pool/net/http';
import type { PoolResolver } from '../pool/net/resolver';
import { LPE_IMAGE_FILE, type ImageCache } from '../pool/update';
import {
  askDeviceUpdate,
  findDeviceUpdateStage,
  findRegistrarStage,
  issueCertificate,
  obtainChainStage,
  offeredBaseUrl,
  plural,
  tlsRegistrarOf,
  webTicketStage,
  type AuthDone,
  type ChainFound,
  type DeviceUpdateFound,
  type RegistrarFound,
} from './pool-stages';
import { StageRunner, type StageListener, type StageOutcome, type StageProgress } from './stage-events';
import { checkIssuedCertificate, type IssuedCheck } from './throwaway-key';

/**
 * The nine bootstrap stages driven with a real phone (a virtual one, or one on USB) over the
 * tether protocol: the phone reports what it learnt on its network (1–2), Tether finds and checks
 * Device Update with the phone's identity and pushes an offered image over USB (3–4), finds the
 * pool and sets it on the phone (5), downloads and validates the CA chain and installs it on the
 * phone (6), hands the user's credentials to the phone over the paired channel and gets a web
 * ticket (7), has the phone make its key pair and request and installs the issued certificate (8),
 * then waits for the phone's own sign-in (9). The private key never leaves the phone.
 *
 * Secrets: the PIN or password arrives in a Buffer, crosses to the phone only after the pairing
 * code was confirmed, and the Buffer is zeroed when stage 7 is over (or the run stops before it).
 * Events and errors never carry it.
 */

/** The user's credentials. The secret is a Buffer so it can be wiped after use. */
export type PhoneAuth =
  | { readonly kind: 'pin'; readonly phoneOrExt: string; readonly pin: Buffer }
  | { readonly kind: 'ntlm'; readonly domain: string; readonly username: string; readonly password: Buffer; readonly sipUri: string };

/** What the confirm callback is shown: Tether's code and the phone's, to compare. */
export interface PairingRequest {
  readonly serial: string;
  readonly modelId: string;
  readonly pairing: PairingInfo;
  /** The phone's display text (it shows the code while pairing), when the phone reports it. */
  readonly phoneDisplay: string | null;
  /**
   * 'start', or 'after-reboot' when the phone restarted into new firmware and did not recognise
   * this PC (its session pairs by code again; normally it pairs by the remembered key and nobody is asked).
   */
  readonly reason: 'start' | 'after-reboot';
  /** Where the phone is attached: only a 'virtual' phone's reported display may be trusted (pairing-auto.ts). */
  readonly source: AttachedPhone['source'];
}

export interface PhoneBootstrapOptions {
  /** Where the phone is found (and found again after its firmware reboot). */
  readonly phones: PhoneProvider;
  readonly serial: string;
  /** Shows both codes and returns the user's decision; false stops the run before any secret crosses. */
  readonly confirmPairing: (request: PairingRequest) => Promise<boolean>;
  readonly auth: PhoneAuth;
  /** The pool's DNS (the DNS server the phone uses). */
  readonly resolver: PoolResolver;
  /** SIP domain; default the DNS domain of the phone's DHCP lease. */
  readonly domain?: string;
  /** Root fingerprints (SHA-256) the user accepts for stage 6. */
  readonly rootFingerprints?: readonly string[];
  /** The OS store (PEM); default Node's bundled roots. Tests and the demo inject []. */
  readonly osRoots?: readonly string[];
  /** The pool's web ports when they are not 80/443. */
  readonly httpPort?: number;
  readonly httpsPort?: number;
  /** Verified update images are kept here (shared by every phone of a kind). */
  readonly imageCache: ImageCache;
  readonly httpOptions?: Omit<PoolHttpOptions, 'resolver' | 'extraCaPems'>;
  readonly connectTimeoutMs?: number;
  /** How long to wait for the phone after its firmware reboot (default 120 s). */
  readonly reattachTimeoutMs?: number;
  /** How long the phone may take to report its sign-in (default 30 s). */
  readonly registrationTimeoutMs?: number;
  /** RSA key size the phone makes (default 2048). */
  readonly keyBits?: 1024 | 2048 | 4096;
  readonly deviceId?: string;
  readonly now?: () => Date;
  /** Timers for the sign-in wait and the firmware push's restart wait (tests inject their own). */
  readonly timers?: SessionTimers;
}

export interface NetworkSeen {
  readonly vlan: number | null;
  readonly vlanSource: DeviceStatus['vlanSource'];
  readonly address: string | null;
  readonly dnsServers: readonly string[];
  readonly domain: string | null;
  readonly certProvUrl: string | null;
  readonly sipServers: string[] | null;
  /** Why an option the phone received could not be read (it still goes on through DNS). */
  readonly optionProblems: string[];
}

export interface PhoneUpdate {
  readonly runningVersion: string;
  readonly offered: string | null;
  /** Set when an image was pushed and committed. */
  readonly pushed: { readonly version: string; readonly slot: string; readonly bytesSent: number; readonly resumes: number; readonly via: string } | null;
}

export interface PhoneCertificate extends IssuedCheck {
  readonly thumbprint: string;
}

export interface PhoneBootstrapResult {
  readonly serial: string;
  readonly modelId: string;
  readonly network: NetworkSeen;
  readonly deviceUpdate: DeviceUpdateFound;
  readonly update: PhoneUpdate;
  readonly discovery: RegistrarFound;
  readonly chain: ChainFound;
  readonly auth: AuthDone;
  readonly certificate: PhoneCertificate;
  readonly registration: RegistrationStatus;
  /** What the phone's display shows at the end. */
  readonly display: string;
}

const derOf = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw);

/** The phone's raw option 43/120 bytes read as a DHCP answer (what stage 5 weighs with DNS). */
function dhcpAnswerOf(status: DeviceStatus, serial: string): DhcpPoolAnswer | null {
  const options = new Map<number, Uint8Array>();
  if (status.dhcpOption43) options.set(OPTION.vendorSpecific, status.dhcpOption43);
  if (status.dhcpOption120) options.set(OPTION.sipServers, status.dhcpOption120);
  if (options.size === 0) return null;
  const packet: DhcpPacket = { op: 2, xid: 0, secs: 0, flags: 0, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: '00:00:00:00:00:00', options };
  return readPoolAnswer(packet, `phone ${serial}`);
}

/** A failed sign-in as the phone reported it, as the typed stage-9 error. */
export function registrationError(r: RegistrationStatus): TetherError {
  const named = /^([A-Z][A-Z0-9_]{2,63}): /.exec(r.diagnostics ?? '')?.[1];
  const fromStatus: ErrorCode =
    r.sipStatus === 401 || r.sipStatus === 407 ? 'REGISTRAR_CERT_REQUIRED'
    : r.sipStatus === 403 || r.sipStatus === 404 ? 'REGISTRAR_FORBIDDEN'
    : r.sipStatus !== null ? 'REGISTRAR_REJECTED'
    : 'REGISTRAR_UNREACHABLE';
  const code: ErrorCode = named !== undefined && isErrorCode(named) && named.startsWith('REGISTRAR_') ? named : fromStatus;
  const text = (r.diagnostics ?? '').replace(/^[A-Z][A-Z0-9_]{2,63}: /, '');
  return new TetherError(code, `The phone could not sign in${r.registrar ? ` to ${r.registrar}` : ''}${r.sipStatus ? ` (SIP ${r.sipStatus})` : ''}${text ? `: ${text}` : '.'}`, {
    stage: 'logon',
    detail: { sipUri: r.sipUri, registrar: r.registrar, sipStatus: r.sipStatus },
  });
}

function describeFirmware(p: FirmwareProgress): { message: string; fraction?: number } {
  switch (p.phase) {
    case 'waiting-for-phone':
      return { message: p.reason === 'reboot' ? 'phone restarting into the new firmware' : p.reason === 'link-lost' ? 'phone lost; waiting for it to come back' : 'waiting for the phone' };
    case 'sending':
      return { message: `pushing over USB ${p.sent}/${p.total} bytes${p.resumedFrom > 0 ? ` (resumed at ${p.resumedFrom})` : ''}`, fraction: p.total === 0 ? 1 : p.sent / p.total };
    case 'verifying':
      return { message: 'phone verifying the image (SHA-256)' };
    case 'activating':
      return { message: `activating slot ${p.slot.toUpperCase()}` };
    case 'rebooting':
      return { message: `phone restarts in ${p.rebootInMs} ms` };
    case 'committing':
      return { message: 'committing the new firmware' };
    case 'done':
      return { message: `running ${p.version} from slot ${p.slot.toUpperCase()}` };
  }
}

/** Runs the nine stages with the phone `serial`; throws the typed error of the stage that failed. */
export async function runPhoneBootstrap(options: PhoneBootstrapOptions, listener: StageListener): Promise<PhoneBootstrapResult> {
  const now = options.now ?? (() => new Date());
  const runner = new StageRunner(listener, () => now().getTime());
  const { resolver } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const reattachTimeoutMs = options.reattachTimeoutMs ?? 120_000;
  const secret = options.auth.kind === 'pin' ? options.auth.pin : options.auth.password;
  const makeHttp = (extraCaPems: readonly string[], baseRoots?: readonly string[]) => new PoolHttpClient({ ...options.httpOptions, resolver, extraCaPems, ...(baseRoots ? { baseRoots } : {}) });
  const anonymous = makeHttp([]);
  let pool: PoolHttpClient | undefined;
  let ticket: IssuedWebTicket | undefined;
  let phone: AttachedPhone;
  let offRegistration: (() => void) | undefined;
  const run = <T>(stage: StageId, work: (progress: StageProgress) => Promise<StageOutcome<T>>) => runner.run(stage, work);

  const pair = async (reason: PairingRequest['reason']): Promise<void> => {
    // Paired at attach by the key the phone remembered from an earlier code pairing
    // (pairing().method 'known-host', docs/tether-protocol.md §5.7): nobody is asked again.
    if (phone.session.paired) return;
    const pairing = phone.session.pairing();
    const display = await phone.session.call('status', {}).then((s) => s.displayText, () => null);
    const yes = await options.confirmPairing({ serial: phone.identity.serial, modelId: phone.identity.modelId, pairing, phoneDisplay: display, reason, source: phone.source });
    if (!yes) throw new TetherError('PAIRING_REFUSED', undefined, { detail: { serial: phone.identity.serial } });
    await phone.session.confirmPairing();
  };

  try {
    phone = await options.phones.waitForSerial(options.serial, { timeoutMs: reattachTimeoutMs });
    const model: PhoneModel | undefined = findModel(phone.identity.modelId, BUILT_IN_CATALOGUE);
    if (!model) throw new TetherError('USB_NOT_A_PHONE', `The phone reports model '${phone.identity.modelId}', which the catalogue does not know.`);
    // Pairing first: the person compares the codes before anything is changed on the phone.
    await pair('start');

    const status = await phone.session.call('status', {});

    // Stage 1: the voice VLAN, as the phone learnt it (LLDP-MED, DHCP, or configured) [S15].
    const vlan = await run('vlan', async () => {
      const problems: string[] = [];
      let vlanId = status.vlan;
      if (vlanId === null && status.vlanSource === 'dhcp' && status.dhcpOption43) {
        try {
          vlanId = decodeVlanOption43(status.dhcpOption43);
        } catch (err) {
          problems.push(toTetherError(err).message);
        }
      }
      const value = { vlan: vlanId, source: status.vlanSource, problems };
      return { value, summary: vlanId === null ? 'no voice VLAN: the phone uses the untagged port' : `VLAN ${vlanId} (${status.vlanSource ?? 'configured'})` };
    });

    // Stage 2: the phone's DHCP lease and the raw options 43/120 it got, decoded here.
    const network = await run('ip', async () => {
      const lease = status.ip;
      if (!lease) throw new TetherError('PHONE_NO_IP_LEASE', undefined, { detail: { serial: phone.identity.serial } });
      const problems = [...vlan.problems];
      let certProvUrl: string | null = null;
      let sipServers: string[] | null = null;
      if (status.dhcpOption43) {
        try {
          certProvUrl = decodeUcClientOption43(status.dhcpOption43).certProvUrl;
        } catch (err) {
          problems.push(`option 43: ${toTetherError(err).message}`);
        }
      }
      if (status.dhcpOption120) {
        try {
          sipServers = decodeOption120(status.dhcpOption120);
        } catch (err) {
          problems.push(`option 120: ${toTetherError(err).message}`);
        }
      }
      const value: NetworkSeen = {
        vlan: vlan.vlan,
        vlanSource: vlan.source,
        address: lease.address,
        dnsServers: lease.dnsServers,
        domain: lease.domain,
        certProvUrl,
        sipServers,
        optionProblems: problems,
      };
      const options43 = certProvUrl ? `option 43 → ${certProvUrl}` : status.dhcpOption43 ? 'option 43 unreadable' : 'no option 43';
      const options120 = sipServers ? `option 120 → ${sipServers.join(', ')}` : status.dhcpOption120 ? 'option 120 unreadable' : 'no option 120';
      return {
        value,
        summary: `${lease.address}/${lease.prefixLength}, DNS ${lease.dnsServers.join(', ') || 'none'}${lease.domain ? `, domain ${lease.domain}` : ''}; ${options43}; ${options120}`,
      };
    });

    const domainGiven = (options.domain ?? network.domain ?? '').replace(/\.$/, '').toLowerCase();
    if (domainGiven === '') throw new TetherError('PHONE_NO_DOMAIN', undefined, { stage: 'find-update' });
    const domain = domainGiven;

    // Stage 3: Device Update, as the phone looks for it.
    const deviceUpdate = await run('find-update', (progress) =>
      findDeviceUpdateStage({ domain, resolver, explicitUrl: null, httpPort: options.httpPort, connectTimeoutMs }, progress),
    );

    // Stage 4: ask with the PHONE's identity; an offered image is downloaded (verified, cached) and pushed over USB.
    const update = await run('check-update', async (progress) => {
      const runningVersion = phone.identity.firmwareVersion;
      const { identity, answer } = await askDeviceUpdate(
        { url: deviceUpdate.url, model, phone: { serial: phone.identity.serial, mac: phone.identity.mac, runningVersion }, http: anonymous },
        progress,
      );
      const module = answer.modules.find((m) => m.fileName.toLowerCase() === LPE_IMAGE_FILE.toLowerCase()) ?? null;
      if (module === null) {
        const value: PhoneUpdate = { runningVersion, offered: null, pushed: null };
        return { value, summary: `no update offered; the phone runs ${runningVersion}` };
      }
      const base = offeredBaseUrl(answer);
      progress(`downloading ${module.fileName} ${module.version} (${module.size} bytes)`);
      const cached = await options.imageCache.get(identity, module, base, { http: anonymous });
      const image = await fileImage(cached.path, module.version);
      const pushed = await pushFirmware({
        phones: options.phones,
        serial: phone.identity.serial,
        image,
        reattachTimeoutMs,
        ...(options.timers ? { timers: options.timers } : {}),
        // About twenty progress steps whatever the size (writes of 16 KiB to 1 MiB).
        writeBytes: Math.min(1 << 20, Math.max(16 * 1024, Math.ceil(image.size / 20))),
        onProgress: (p) => {
          const { message, fraction } = describeFirmware(p);
          progress(message, fraction);
        },
      });
      const value: PhoneUpdate = {
        runningVersion,
        offered: module.version,
        pushed: { version: pushed.version, slot: pushed.slot, bytesSent: pushed.bytesSent, resumes: pushed.resumes, via: cached.via },
      };
      return {
        value,
        summary: `${runningVersion} → ${pushed.version}: ${module.size} bytes (${cached.via === 'download' ? 'downloaded and verified' : 'verified copy from the cache'}), pushed over USB${pushed.resumes ? ` (resumed ${plural(pushed.resumes, 'time')})` : ''}, activated, committed in slot ${pushed.slot.toUpperCase()}`,
      };
    });
    if (update.pushed) {
      // The phone restarted into the new firmware: a new session. The phone remembers this PC from
      // the code pairing at the start, so it pairs by key; only if it forgot (a wipe) is a code asked.
      phone = await options.phones.waitForSerial(options.serial, { timeoutMs: reattachTimeoutMs });
      await pair('after-reboot');
    }

    // Stage 5: the phone's own option 43/120 first, then DNS in the six-step order; then set the pool on the phone.
    const discovery = await run('registrar', async (progress) => {
      const dhcp = dhcpAnswerOf(status, phone.identity.serial);
      const found = await findRegistrarStage(
        { domain, resolver, dhcp, dhcpProblem: dhcp === null ? 'the phone received no option 43 or 120' : null, httpsPort: options.httpsPort },
        progress,
      );
      const tls = tlsRegistrarOf(found.value);
      if (!tls) {
        throw new TetherError('DNS_NO_REGISTRAR', 'No TLS Registrar was found; a phone signs in over TLS only.', { detail: { domain } });
      }
      progress(`setting the pool on the phone (Registrar ${tls.host}:${tls.port})`);
      await phone.session.call('setPoolEndpoints', {
        registrar: { fqdn: tls.host, port: tls.port },
        webServicesInternal: found.value.webServices.url,
        webServicesExternal: null,
        deviceUpdateInternal: deviceUpdate.url,
        deviceUpdateExternal: null,
      });
      return { value: found.value, summary: `${found.summary}; set on the phone` };
    });

    // Stage 6: download, validate and trust the chain; the phone gets the WHOLE chain, root first.
    const chain = await run('ca-chain', async (progress) => {
      const got = await obtainChainStage(
        {
          webServicesUrl: discovery.webServices.url,
          http: anonymous,
          resolver,
          httpPort: options.httpPort,
          now,
          connectTimeoutMs,
          pinnedFingerprints: (options.rootFingerprints ?? []).map(normaliseFingerprint),
          ...(options.osRoots ? { osRoots: options.osRoots } : {}),
        },
        progress,
      );
      const rootFirst = [...got.value.pems].reverse().map(derOf);
      progress(`installing ${plural(rootFirst.length, 'certificate')} on the phone`);
      await phone.session.call('installCaChain', { certificates: rootFirst });
      return { value: got.value, summary: `${got.summary}; installed on the phone (${plural(rootFirst.length, 'certificate')})` };
    });

    // Stage 7: credentials to the phone over the paired, encrypted channel; a web ticket from the pool.
    // From here on the pool is trusted the way the phone trusts it: through the validated stage-6
    // chain only, not through every root this PC happens to know.
    pool = makeHttp(chain.pems, []);
    const poolHttp = pool;
    const auth = await run('auth', async (progress) => {
      if (options.auth.kind === 'pin' && !model.pinAuth) {
        throw new TetherError('PHONE_PIN_UNSUPPORTED', `A ${model.name} cannot sign in with a PIN; use Windows credentials (domain, user, password).`, {
          detail: { model: model.id },
        });
      }
      const a = options.auth;
      const ticketAuth: WebTicketAuth =
        a.kind === 'pin' ? { kind: 'pin', phoneOrExt: a.phoneOrExt, pin: a.pin.toString('utf8') } : { kind: 'ntlm', domain: a.domain, username: a.username, password: a.password.toString('utf8') };
      progress('handing the credentials to the phone (paired channel)');
      try {
        await phone.session.call(
          'credentials',
          ticketAuth.kind === 'pin'
            ? { kind: 'pin', extension: ticketAuth.phoneOrExt, pin: ticketAuth.pin }
            : { kind: 'ntlm', domain: ticketAuth.domain, user: ticketAuth.username, password: ticketAuth.password, sipUri: a.kind === 'ntlm' ? a.sipUri : '' },
        );
      } catch (err) {
        const e = toTetherError(err);
        if (e.code === 'DEVICE_CREDENTIALS_REJECTED' && a.kind === 'pin') throw new TetherError('PHONE_PIN_UNSUPPORTED', e.message, { detail: { model: model.id }, cause: e });
        throw e;
      }
      return webTicketStage(
        { http: poolHttp, webServicesUrl: discovery.webServices.url, auth: ticketAuth, ...(a.kind === 'ntlm' ? { sipUri: a.sipUri } : {}), now, keep: (t) => (ticket = t) },
        progress,
      );
    }).finally(() => secret.fill(0));

    // Stage 8: the phone makes its key pair and request; the pool issues and publishes; the phone installs it.
    let registrationSeen: RegistrationStatus | null = null;
    const waiters = new Set<(r: RegistrationStatus) => void>();
    offRegistration = phone.session.on('registration', (r) => {
      if (r.state !== 'registered' && r.state !== 'failed') return;
      registrationSeen = r;
      for (const w of [...waiters]) w(r);
    });
    const certificate = await run('certificate', async (progress) => {
      progress(`the phone makes an RSA-${options.keyBits ?? 2048} key pair and a request for ${auth.sipUri}`);
      const { csr } = await phone.session.call('makeKeyPair', { subject: auth.sipUri, keyBits: options.keyBits ?? 2048 }, { timeoutMs: 120_000 });
      const request = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(csr).toString('binary'))));
      const csrPem = forge.pki.certificationRequestToPem(request);
      // Normalised through Node so it compares with the certificate's key byte for byte.
      const publicKeyPem = createPublicKey(forge.pki.publicKeyToPem(request.publicKey!)).export({ type: 'spki', format: 'pem' }).toString();
      const issued = await issueCertificate({ http: poolHttp, auth, ticket: ticket!, csrPem, ...(options.deviceId === undefined ? {} : { deviceId: options.deviceId }), now }, progress);
      const check = checkIssuedCertificate(issued.certificatePem, publicKeyPem, chain.pems, now());
      progress('installing the certificate on the phone');
      const installed = await phone.session.call('installCertificate', { certificate: derOf(issued.certificatePem), chain: issued.chainPems.map(derOf) });
      const value: PhoneCertificate = { ...check, thumbprint: installed.thumbprint };
      return { value, summary: `issued and published '${check.subject}' (until ${check.notAfter}) for the phone's own key; installed (thumbprint ${installed.thumbprint})` };
    });
    ticket?.dispose();
    ticket = undefined;

    // Stage 9: the phone signs in by itself; Tether waits for its registration event.
    const registration = await run('logon', async (progress) => {
      progress('waiting for the phone to sign in');
      const timeoutMs = options.registrationTimeoutMs ?? 30_000;
      const timers = options.timers ?? realTimers;
      const r = await new Promise<RegistrationStatus>((resolve, reject) => {
        const done = (x: RegistrationStatus) => {
          timers.clearTimeout(timer);
          waiters.delete(done);
          resolve(x);
        };
        const timer = timers.setTimeout(() => {
          waiters.delete(done);
          reject(new TetherError('PHONE_REGISTRATION_TIMEOUT', `The phone did not report its sign-in within ${timeoutMs} ms.`, { detail: { serial: phone.identity.serial, timeoutMs } }));
        }, timeoutMs);
        waiters.add(done);
        if (registrationSeen) return done(registrationSeen);
        // The event may have come before we listened: ask once.
        void phone.session.call('status', {}).then((s) => {
          if (s.registration.state === 'registered' || s.registration.state === 'failed') done(s.registration);
        }, () => undefined);
      });
      if (r.state !== 'registered') throw registrationError(r);
      return { value: r, summary: `the phone signed in as ${r.sipUri} at ${r.registrar}` };
    });

    const display = (await phone.session.call('status', {})).displayText;
    return {
      serial: phone.identity.serial,
      modelId: phone.identity.modelId,
      network,
      deviceUpdate,
      update,
      discovery,
      chain,
      auth,
      certificate,
      registration,
      display,
    };
  } finally {
    offRegistration?.();
    secret.fill(0);
    ticket?.dispose();
    anonymous.close();
    pool?.close();
  }
}
