import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { access, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join, posix, resolve, win32 } from 'node:path';
import { ensurePrivateFolder, tetherDataFolder } from '../common/data-folder';
import { TetherError } from '../common/errors';
import { addAdminRoutes } from './admin';
import { openLabCa, type PersistentLabCa } from './ca/ca';
import { loadOrIssueServerCerts } from './ca/server-certs';
import type { FaultName, LabContext, LabDns, LabService, LabServiceHandle } from './context';
import { startDnsServer, type LabDnsServer } from './dns/server';
import { LabZone } from './dns/zone';
import { DEFAULT_LAB_VLAN, labDhcpOptions } from './dhcp/options';
import { createLabFaults, DEFAULT_SLOW_MS } from './faults';
import { startHttpListeners, type LabHttpListeners } from './http/listeners';
import { RouteTable } from './http/routes';
import { createLabTls, WRONG_NAME } from './http/tls';
import { publishEndpoints, type PublishedEndpoints } from './endpoints-file';
import { startExternalView, type ExternalView } from './external/edge';
import { externalWebServicesFqdn } from './external/names';
import { parseLabView, type LabView } from './external/view';
import { LAB_SERVICES } from './services';
import { removeStaleTempFiles, writeFileAtomic } from './state';
import { openUserDirectory, type PersistentLabUsers } from './users/directory';

export interface LabOptions {
  /** State folder (CA, users, service stores); default defaultLabStateDir(): private, under the user's data folder. */
  stateDir?: string;
  /** SIP domain; default contoso.test. */
  domain?: string;
  /** Front End pool FQDN; default pool01.<domain>. */
  poolFqdn?: string;
  /** Address every listener binds to; default 127.0.0.1. */
  host?: string;
  /** Ports; 0 (the default) takes a free one. */
  httpPort?: number;
  httpsPort?: number;
  dnsPort?: number;
  /** UDP port of the DHCPINFORM responder (lab/dhcp); 0 (the default) takes a free one. */
  dhcpPort?: number;
  /** Voice VLAN answered to CPE-OCPHONE informs (1–4094; default 20), or null for none. */
  dhcpVlan?: number | null;
  /**
   * Which views of the pool to serve (docs/lab.md "Views"): 'internal' (default) the corporate
   * network's DNS and listeners; 'external' the view from outside (external DNS zone, edge names,
   * the external Web Services over HTTPS only); 'both' at once. The pool behind them is one.
   */
  view?: LabView;
  /** Ports of the external view's DNS server and HTTPS listener; 0 (the default) takes a free one. */
  externalDnsPort?: number;
  externalHttpsPort?: number;
  /** Faults switched on from the start. */
  faults?: Iterable<FaultName>;
  /** Delay of 'slow-responses' in ms (default 2000). */
  slowMs?: number;
  /** Bad PINs before an account locks (default 5). */
  lockoutThreshold?: number;
  /**
   * Write `<state>/endpoints.json` (the endpoints without passwords and PINs, for `--lab DIR`) once
   * started, and remove it on stop (default true). See lab/endpoints-file.ts.
   */
  publishEndpoints?: boolean;
  /** Services to run (default: every entry of lab/services.ts). */
  services?: readonly LabService[];
  log?: (message: string) => void;
}

export interface LabUserEndpoint {
  sipUri: string;
  /** DOMAIN\user for NTLM sign-in. */
  ntlm: string;
  password: string;
  phoneNumber: string;
  extension: string;
  pin: string;
}

/** The lab's endpoints, as `tether lab` prints them on its first line. */
export interface LabEndpoints {
  dns: string;
  domain: string;
  poolFqdn: string;
  host: string;
  http: string;
  https: string;
  /** Admin endpoint for faults (loopback only). */
  admin: string;
  /** Per-run secret the admin endpoint requires (`Authorization: Bearer`); also in <state>/admin-token, never in endpoints.json. */
  adminToken: string;
  ca: { fingerprint: string; rootPem: string; intermediatePem: string };
  users: LabUserEndpoint[];
  faults: FaultName[];
  state: string;
  /** The views served; `dns` is the internal DNS server unless only the external view runs. */
  view: LabView;
  /** The external view's endpoints (dns, https, webServices, webticket, deviceUpdate, sip), when it runs. */
  external?: Record<string, string | number>;
  /** Every service's own endpoints (e.g. sip), merged in; a clash is prefixed with the service name. */
  [service: string]: unknown;
}

export interface LabHandle {
  readonly context: LabContext;
  readonly endpoints: LabEndpoints;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly dnsPort: number;
  /** `host:port` of the DNS server (the external one when only the external view runs). */
  readonly dnsServer: string;
  /** The external view, when it runs. */
  readonly external: ExternalView | null;
  readonly ca: PersistentLabCa;
  readonly users: PersistentLabUsers;
  /** Stops every service (in reverse order), the listeners and the DNS server, and saves state. */
  stop(): Promise<void>;
}

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/i;

function checkPort(name: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TetherError('BAD_INPUT', `${name} must be 0–65535, not ${port}.`);
  return port;
}

/** The pool's server-certificate names ([S16][S19][S46]). */
export function poolServerNames(domain: string, poolFqdn: string): string[] {
  return [...new Set([poolFqdn, `ucupdates-r2.${domain}`, `sipinternal.${domain}`, `sip.${domain}`, `sipexternal.${domain}`, externalWebServicesFqdn(domain)])];
}

/** `<state>/admin-token`: the admin endpoint's per-run token, mode 0600, removed on stop. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The lab's default state folder: `<data folder>/lab` (common/data-folder.ts), private to the user,
 * never a shared temporary path where another account could plant endpoints.json first.
 */
export function defaultLabStateDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  return (platform === 'win32' ? win32 : posix).join(tetherDataFolder(env, platform, home), 'lab');
}

/** Starts the emulated Lync pool on loopback and every service in it. */
export async function startLab(options: LabOptions = {}): Promise<LabHandle> {
  const domain = (options.domain ?? 'contoso.test').toLowerCase();
  if (!DOMAIN_RE.test(domain)) throw new TetherError('BAD_INPUT', `Not a DNS domain: '${domain}'.`);
  const poolFqdn = (options.poolFqdn ?? `pool01.${domain}`).toLowerCase();
  if (!DOMAIN_RE.test(poolFqdn)) throw new TetherError('BAD_INPUT', `Not a pool FQDN: '${poolFqdn}'.`);
  const host = options.host ?? '127.0.0.1';
  if (isIP(host) === 0) throw new TetherError('BAD_INPUT', `The lab binds to an IP address, not '${host}'.`);
  const stateDir = resolve(options.stateDir ?? defaultLabStateDir());
  const log = options.log ?? (() => undefined);
  const ports = {
    http: checkPort('httpPort', options.httpPort ?? 0),
    https: checkPort('httpsPort', options.httpsPort ?? 0),
    dns: checkPort('dnsPort', options.dnsPort ?? 0),
    dhcp: checkPort('dhcpPort', options.dhcpPort ?? 0),
    externalDns: checkPort('externalDnsPort', options.externalDnsPort ?? 0),
    externalHttps: checkPort('externalHttpsPort', options.externalHttpsPort ?? 0),
  };
  const view = parseLabView(options.view ?? 'internal');
  const dhcpVlan = options.dhcpVlan === undefined ? DEFAULT_LAB_VLAN : options.dhcpVlan;
  if (dhcpVlan !== null && !(Number.isInteger(dhcpVlan) && dhcpVlan >= 1 && dhcpVlan <= 4094)) {
    throw new TetherError('BAD_INPUT', `dhcpVlan must be a VLAN ID 1–4094 (or null for none), not ${dhcpVlan}.`);
  }

  // Created 0700; one another account owns or can write is refused (FOLDER_NOT_PRIVATE): the
  // CA keys and endpoints.json in it decide where sign-ins go.
  try {
    await ensurePrivateFolder(stateDir);
  } catch (err) {
    if (!TetherError.is(err, 'FOLDER_UNWRITABLE')) throw err;
    throw new TetherError('LAB_STATE_UNWRITABLE', `The lab cannot create its state folder ${stateDir}.`, { detail: { path: stateDir }, cause: err });
  }
  try {
    await access(stateDir, constants.W_OK);
  } catch (err) {
    throw new TetherError('LAB_STATE_UNWRITABLE', `The lab cannot write its state folder ${stateDir}.`, {
      detail: { path: stateDir },
      cause: err,
    });
  }
  try {
    // A lab killed mid-save leaves writeFileAtomic's temporary files behind (the targets are whole).
    // The state folder's top and ca/ hold the core's files; device-update/ (store.json, and images
    // cut off mid-import) is the only service folder with subfolders of its own.
    for (const [dir, recursive] of [[stateDir, false], [join(stateDir, 'ca'), false], [join(stateDir, 'device-update'), true]] as const) {
      for (const name of await removeStaleTempFiles(dir, { recursive })) log(`removed a stale temporary file: ${join(dir, name)}`);
    }
  } catch (err) {
    throw new TetherError('LAB_STATE_UNWRITABLE', `The lab cannot clean up its state folder ${stateDir}.`, {
      detail: { path: stateDir },
      cause: err,
    });
  }
  const faults = createLabFaults(options.faults ?? [], options.slowMs ?? DEFAULT_SLOW_MS);
  const ca = await openLabCa({ dir: join(stateDir, 'ca'), domain });
  const users = await openUserDirectory({
    dir: stateDir,
    domain,
    lockoutThreshold: options.lockoutThreshold,
    allLocked: () => faults.has('account-locked'),
  });
  const serverNames = poolServerNames(domain, poolFqdn);
  const serverCerts = await loadOrIssueServerCerts(ca, join(stateDir, 'ca'), serverNames, [host], WRONG_NAME);
  const tls = createLabTls(serverNames, serverCerts, ca.intermediateCertPem, faults);
  const zone = new LabZone({ domain, poolFqdn, address: host, has: (f) => faults.has(f) });
  const routes = new RouteTable();
  const adminToken = randomBytes(32).toString('hex');
  const hostUrl = host.includes(':') ? `[${host}]` : host;
  addAdminRoutes(routes, faults, users, {
    token: adminToken,
    ownHosts: (secure) => {
      const port = secure ? listeners?.httpsPort : listeners?.httpPort;
      return port === undefined ? [] : [`${hostUrl}:${port}`.toLowerCase(), `localhost:${port}`];
    },
  });

  const started: { name: string; handle: LabServiceHandle }[] = [];
  let dnsServer: LabDnsServer | undefined;
  let listeners: LabHttpListeners | undefined;
  let external: ExternalView | undefined;
  let published: PublishedEndpoints | undefined;
  const tokenFile = join(stateDir, ADMIN_TOKEN_FILE);
  const stopAll = async () => {
    // First, so a reader never finds the file of a lab that no longer answers.
    await published?.remove().catch((err: unknown) => log(`endpoints.json: remove failed: ${(err as Error).message}`));
    await unlink(tokenFile).catch(() => undefined);
    for (const s of started.reverse()) {
      await s.handle.stop().catch((err: unknown) => log(`${s.name}: stop failed: ${(err as Error).message}`));
    }
    started.length = 0;
    await external?.close();
    await listeners?.close();
    await dnsServer?.close();
    await users.save();
  };

  try {
    // Only the external view: the internal zone still exists (services add to it) but nobody can ask it.
    if (view !== 'external') dnsServer = await startDnsServer(zone, host, ports.dns, log);
    listeners = await startHttpListeners({ host, httpPort: ports.http, httpsPort: ports.https, routes, faults, tls, log });
    if (view !== 'internal') {
      external = await startExternalView({
        domain,
        poolFqdn,
        host,
        dnsPort: view === 'external' && options.externalDnsPort === undefined ? ports.dns : ports.externalDns,
        httpsPort: ports.externalHttps,
        stateDir,
        ca,
        users,
        faults,
        tls,
        poolRoutes: routes,
        poolHttpBase: `http://${poolFqdn}:${listeners.httpPort}`,
        log,
      });
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const servedDnsPort = dnsServer?.port ?? external!.dnsPort;
  const dnsAddress = `${host.includes(':') ? `[${host}]` : host}:${servedDnsPort}`;
  const dns: LabDns = {
    server: dnsAddress,
    port: servedDnsPort,
    add: (r) => zone.add(r),
    remove: (name, type) => zone.remove(name, type),
    lookup: (name, type) => zone.lookup(name, type),
    setSipPort: (transport, port) => {
      zone.setSipPort(transport, port);
      external?.setSipPort(transport, port);
    },
  };
  const context: LabContext = {
    domain,
    poolFqdn,
    stateDir,
    ca,
    users,
    faults,
    routes,
    httpBase: `http://${poolFqdn}:${listeners.httpPort}`,
    httpsBase: `https://${poolFqdn}:${listeners.httpsPort}`,
    host,
    dns,
    tls,
    log,
    dhcp: { port: ports.dhcp, vlanId: dhcpVlan },
    ...(external ? { external: { fqdn: external.fqdn, httpsBase: external.httpsBase } } : {}),
    dhcpOptions: () =>
      labDhcpOptions({ domain, poolFqdn, httpsBase: context.httpsBase, vlanId: dhcpVlan, wrong: faults.has('option43-wrong') }),
  };

  // Keys the lab itself prints; a service endpoint with one of these names gets its service's prefix.
  const coreKeys = new Set(['dns', 'domain', 'poolFqdn', 'host', 'http', 'https', 'admin', 'adminToken', 'ca', 'users', 'faults', 'state']);
  const serviceEndpoints: Record<string, unknown> = {};
  // The views' keys (lab/external) are the lab's own too.
  coreKeys.add('view').add('external');
  for (const service of options.services ?? LAB_SERVICES) {
    try {
      const handle = await service.start(context);
      started.push({ name: service.name, handle });
      for (const [k, v] of Object.entries(handle.endpoints ?? {})) {
        serviceEndpoints[coreKeys.has(k) || k in serviceEndpoints ? `${service.name}.${k}` : k] = v;
      }
      log(`started ${service.name}`);
    } catch (err) {
      await stopAll();
      throw new TetherError('LAB_SERVICE_FAILED', `The lab service '${service.name}' failed to start: ${(err as Error).message}`, {
        detail: { service: service.name },
        cause: err,
      });
    }
  }

  const endpoints: LabEndpoints = {
    dns: dnsAddress,
    domain,
    poolFqdn,
    host,
    http: context.httpBase,
    https: context.httpsBase,
    ...serviceEndpoints,
    admin: `http://${hostUrl}:${listeners.httpPort}/lab/faults`,
    adminToken,
    ca: { fingerprint: ca.rootFingerprint, rootPem: ca.rootCertPath, intermediatePem: ca.intermediateCertPath },
    users: users.all().map((u) => ({
      sipUri: u.sipUri,
      ntlm: `${u.domain}\\${u.username}`,
      password: u.password,
      phoneNumber: u.phoneNumber,
      extension: u.extension,
      pin: u.pin,
    })),
    faults: faults.list(),
    state: stateDir,
    view,
    ...(external ? { external: external.endpoints() } : {}),
  };
  try {
    // Only the user can read it (0600, in the 0700 state folder): scripts take the token from here.
    await writeFileAtomic(tokenFile, `${adminToken}\n`, 0o600);
  } catch (err) {
    await stopAll();
    throw new TetherError('LAB_STATE_UNWRITABLE', `The lab cannot write ${tokenFile}.`, { detail: { path: stateDir }, cause: err });
  }
  if (options.publishEndpoints ?? true) {
    try {
      published = await publishEndpoints(stateDir, endpoints);
    } catch (err) {
      await stopAll();
      throw new TetherError('LAB_STATE_UNWRITABLE', `The lab cannot write ${join(stateDir, 'endpoints.json')}.`, { detail: { path: stateDir }, cause: err });
    }
  }
  let stopped: Promise<void> | undefined;
  return {
    context,
    endpoints,
    httpPort: listeners.httpPort,
    httpsPort: listeners.httpsPort,
    dnsPort: servedDnsPort,
    dnsServer: dnsAddress,
    external: external ?? null,
    ca,
    users,
    stop: () => (stopped ??= stopAll()),
  };
}

export type { LabContext, LabService, FaultName } from './context';
export { FAULT_NAMES } from './context';
