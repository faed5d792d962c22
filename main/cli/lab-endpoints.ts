import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { TetherError } from '../../common/errors';
import { processAlive } from '../../common/process-alive';
import { PORT_WIN_NTLM } from '../../common/pool/webticket-wire';
import { ENDPOINTS_FILE, ENDPOINTS_FORMAT } from '../../lab/endpoints-file';
import { flag } from './args';
import { usageError } from './io';

/**
 * `--lab [DIR]` for the helpdesk commands: reads the endpoints a running `tether lab` wrote to
 * `DIR/endpoints.json` (lab/endpoints-file.ts, docs/lab.md) and turns them into the values of the
 * explicit flags (--dns, --domain, ports, the root to trust, the DHCP responder). The commands
 * apply them only where the user gave no flag of their own.
 *
 * The file is input from disk, so it is checked field by field; a missing, stale (its lab's
 * process is gone) or malformed file is a usage error that says to start the lab first.
 */

export const DEFAULT_LAB_DIR = '.tether-lab';

/** The flag table entry the four commands share. */
export const LAB_FLAG = flag.optional(DEFAULT_LAB_DIR);

/** The help lines for --lab, with the description starting at `column` (to match each usage text). */
export function labFlagHelp(column: number): string {
  const pad = ' '.repeat(column);
  return [
    `  --lab [DIR]`.padEnd(column) + 'read the DNS server, domain, ports, trusted root and DHCP responder',
    `${pad}from the running \`tether lab\` whose state folder is DIR (default`,
    `${pad}${DEFAULT_LAB_DIR}); flags given explicitly win`,
  ].join('\n');
}

export interface LabTarget {
  /** The endpoints file that was read. */
  readonly file: string;
  readonly pid: number;
  /** `host:port` of the lab's DNS server. */
  readonly dns: string;
  readonly domain: string;
  readonly poolFqdn: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** `https://<pool>:<port>` */
  readonly httpsBase: string;
  /** SHA-256 of the root's DER, upper-case hex with colons. */
  readonly rootFingerprint: string;
  readonly rootPemPath: string;
  readonly intermediatePemPath: string;
  /** The DHCPINFORM responder, when the lab runs one. */
  readonly dhcp: { host: string; port: number } | null;
  /** The Registrar's TLS port, when the lab runs one. */
  readonly registrarPort: number | null;
  /** The WebTicket service URL (its NTLM port is `${webTicketUrl}/WebTicketServiceWinNtlm`). */
  readonly webTicketUrl: string;
}


const START_THE_LAB = 'Start it first with `npx tether lab`';

function labUsage(message: string, reason: 'missing' | 'stale' | 'malformed', file: string, cause?: unknown): TetherError {
  return new TetherError('BAD_INPUT', message, { detail: { reason, file }, ...(cause === undefined ? {} : { cause }) });
}

export interface ReadLabOptions {
  /** Is the lab's process still there? (tests inject one) */
  readonly isAlive?: (pid: number) => boolean;
}

/** Reads and checks `DIR/endpoints.json`. */
export async function readLabEndpoints(dir: string, options: ReadLabOptions = {}): Promise<LabTarget> {
  const file = join(resolve(dir), ENDPOINTS_FILE);
  const hint = dir === DEFAULT_LAB_DIR ? '' : ` --state ${dir}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw labUsage(`No running lab: cannot read ${file}. ${START_THE_LAB}${hint} (in another terminal), or give --lab the lab's state folder.`, 'missing', file, cause);
  }
  const bad = (what: string) => labUsage(`${file} is not a lab endpoints file (${what}). ${START_THE_LAB}${hint}; it rewrites the file.`, 'malformed', file);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  const o = doc as Record<string, unknown>;
  if (o.format !== ENDPOINTS_FORMAT) throw bad(`format is not ${ENDPOINTS_FORMAT}`);
  const pid = o.pid;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) throw bad('no pid');
  if (!(options.isAlive ?? processAlive)(pid)) {
    throw labUsage(`The lab that wrote ${file} (process ${pid}) is no longer running. ${START_THE_LAB}${hint}.`, 'stale', file);
  }

  const str = (v: unknown, what: string): string => {
    if (typeof v !== 'string' || v === '' || v.length > 2048) throw bad(`no ${what}`);
    return v;
  };
  const portOf = (v: string, what: string): number => {
    const m = /:(\d{1,5})$/.exec(v);
    const n = m ? Number(m[1]) : NaN;
    if (!(n >= 1 && n <= 65535)) throw bad(`${what} has no port`);
    return n;
  };
  const urlPort = (v: unknown, scheme: 'http:' | 'https:', what: string): number => {
    let url: URL;
    try {
      url = new URL(str(v, what));
    } catch {
      throw bad(`${what} is not a URL`);
    }
    if (url.protocol !== scheme || url.port === '') throw bad(`${what} is not an ${scheme.slice(0, -1)} URL with a port`);
    return Number(url.port);
  };

  const dns = str(o.dns, 'dns');
  portOf(dns, 'dns');
  const domain = str(o.domain, 'domain');
  const poolFqdn = str(o.poolFqdn, 'poolFqdn');
  const httpPort = urlPort(o.http, 'http:', 'http');
  const httpsPort = urlPort(o.https, 'https:', 'https');
  const ca = o.ca;
  if (typeof ca !== 'object' || ca === null) throw bad('no ca');
  const c = ca as Record<string, unknown>;
  const rootFingerprint = str(c.fingerprint, 'ca.fingerprint').toUpperCase();
  if (!/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/.test(rootFingerprint)) throw bad('ca.fingerprint is not a SHA-256 fingerprint');

  let dhcp: LabTarget['dhcp'] = null;
  if (o.dhcp !== undefined) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(str(o.dhcp, 'dhcp'));
    if (!m || isIP(m[1]!) !== 4 || Number(m[2]) < 1 || Number(m[2]) > 65535) throw bad('dhcp is not IPv4:PORT');
    dhcp = { host: m[1]!, port: Number(m[2]) };
  }
  let registrarPort: number | null = null;
  if (o.registrarPort !== undefined) {
    if (typeof o.registrarPort !== 'number' || !Number.isInteger(o.registrarPort) || o.registrarPort < 1 || o.registrarPort > 65535) throw bad('registrarPort is not a port');
    registrarPort = o.registrarPort;
  }
  const httpsBase = `https://${poolFqdn}:${httpsPort}`;
  return {
    file,
    pid,
    dns,
    domain,
    poolFqdn,
    httpPort,
    httpsPort,
    httpsBase,
    rootFingerprint,
    rootPemPath: str(c.rootPem, 'ca.rootPem'),
    intermediatePemPath: str(c.intermediatePem, 'ca.intermediatePem'),
    dhcp,
    registrarPort,
    webTicketUrl: o.webticket === undefined ? `${httpsBase}/WebTicket/WebTicketService.svc` : str(o.webticket, 'webticket'),
  };
}

/** The URL of the lab's NTLM WebTicket port, for `test-auth --lab`. */
export function labNtlmUrl(lab: LabTarget): string {
  return `${lab.webTicketUrl}/${PORT_WIN_NTLM}`;
}

async function readCert(path: string, what: string): Promise<{ pem: string; cert: X509Certificate }> {
  try {
    const pem = await readFile(path, 'utf8');
    return { pem, cert: new X509Certificate(pem) };
  } catch (cause) {
    throw labUsage(`Cannot read the lab's ${what} ${path}. ${START_THE_LAB}.`, 'malformed', path, cause);
  }
}

/**
 * The lab's root (and its intermediate), for commands that take CA PEMs rather than a pin. The
 * root is trusted only when its SHA-256 fingerprint is the one the lab published (the same check
 * a pinned first-use decision makes), and the intermediate only when that root signed it.
 */
export async function labTrustPems(lab: LabTarget): Promise<string[]> {
  const root = await readCert(lab.rootPemPath, 'root certificate');
  if (root.cert.fingerprint256 !== lab.rootFingerprint) {
    throw new TetherError('BAD_INPUT', `The lab's root certificate ${lab.rootPemPath} does not have the fingerprint in ${lab.file}; it is not trusted. Restart \`npx tether lab\`.`, {
      detail: { reason: 'fingerprint-mismatch', file: lab.rootPemPath, expected: lab.rootFingerprint, found: root.cert.fingerprint256 },
    });
  }
  const inter = await readCert(lab.intermediatePemPath, 'intermediate certificate');
  if (!inter.cert.checkIssued(root.cert) || !inter.cert.verify(root.cert.publicKey)) {
    throw new TetherError('BAD_INPUT', `The lab's intermediate ${lab.intermediatePemPath} is not signed by its root; it is not trusted. Restart \`npx tether lab\`.`, {
      detail: { reason: 'intermediate-not-issued', file: lab.intermediatePemPath },
    });
  }
  return [root.pem, inter.pem];
}

/**
 * A second lab (`tether lab`, `tether demo --state`) on a running lab's state folder would overwrite
 * its endpoints.json (and remove it on stop, leaving the first lab unreachable by --lab) and share its
 * stores: refuse it.
 */
export async function refuseRunningLab(stateDir: string): Promise<void> {
  const running = await readLabEndpoints(stateDir).catch(() => null);
  if (running) {
    throw usageError(`A lab (process ${running.pid}) is already running with the state folder ${stateDir}. Use it (the other commands take --lab), stop it, or give this one --state OTHER_DIR.`);
  }
}
