import { toTetherError, type TetherError } from '../../../common/errors';
import { STAGES, type StageId } from '../../../common/stages';
import { runPoolBootstrap, type PartialBootstrapResult, type PoolBootstrapOptions, type PoolBootstrapResult } from '../../bootstrap/pool-bootstrap';
import type { StageEvent } from '../../bootstrap/stage-events';
import type { WebTicketAuth } from '../../pool/auth/webticket';
import { dhcpInform } from '../../pool/discovery/dhcp-inform';
import { flag, parseArgs } from '../args';
import { dhcpInformTarget, dhcpServerAddress, NO_PASSWORD_ON_ARGV, readCertificatePem, readSecret, resolverFor } from '../inputs';
import { errorReport, EXIT, usageError, type CliIO, type Command, type ErrorReport } from '../io';
import { LAB_FLAG, labFlagHelp, readLabEndpoints } from '../lab-endpoints';
import { makeThrowawayKey, type ThrowawayKey } from '../../bootstrap/throwaway-key';
import { parseAccount } from './test-auth';
import { runOutside } from './test-bootstrap-external';

const USAGE = `Usage: tether test-bootstrap (--domain DOMAIN [--dns HOST:PORT] | --lab [DIR])
                              (--pin 'NUMBER:PIN' | --pin NUMBER | --ntlm 'DOMAIN\\user' --sip sip:user@domain)
                              [--root-fingerprint SHA256]… [--trust-root FILE] [--register] [--download]
                              [--model CX600] [--mac MAC] [--serial S] [--firmware VERSION]
                              [--http-port N] [--https-port N] [--web-services URL] [--device-update URL]
                              [--dhcp-inform IFACE [--dhcp-server IP[:PORT]] [--dhcp-client-port N]]
                              [--device-id GUID] [--external [--external-dns HOST:PORT] [--facts FILE]]
                              [--json]

Runs bootstrap stages 3 to 8 against the pool with a throw-away key and no phone, in the spirit
of Lync's Test-CsPhoneBootstrap: finds the Device Update service (3) and asks it for updates as
the given model (4), finds the Registrar and Web Services URL in the phone's order (5), downloads,
validates and trusts the pool's CA chain (6), gets a web ticket with the PIN or Windows
credentials (7), and has a certificate issued and published for a throw-away RSA-2048 key made in
memory (8). --register also signs in to the Registrar with that certificate (9). Stages 1 and 2
need a phone and are not run. The web requests of stages 7 and 8 trust only what stage 6
validated (plus the system roots), as a phone does.

The certificate IS published to the user's store, as a phone's sign-in would publish it.

  --domain DOMAIN         the user's SIP domain, e.g. contoso.com
${labFlagHelp(26)}
  --dns HOST:PORT         ask this DNS server instead of the system's
  --pin 'NUMBER:PIN'      phone number or extension and PIN (visible in the process list!)
  --pin NUMBER            the PIN comes from TETHER_PIN or is asked for without echo (preferred)
  --ntlm 'DOMAIN\\user'    Windows sign-in; the password comes from TETHER_PASSWORD or a prompt
  --sip URI               the user's SIP address (needed with --ntlm)
  --root-fingerprint HEX  trust the pool's root CA when its SHA-256 fingerprint is this (repeatable)
  --trust-root FILE       trust the root CA certificate(s) in this PEM file
  --register              also run stage 9: SIP REGISTER over TLS with the issued certificate
  --download              also download and verify (size, SHA-256) the offered update images
                          (into a temporary folder that is removed afterwards)
  --model ID              phone model to ask Device Update for (default CX600)
  --mac MAC, --serial S   the identity sent to Device Update (default: a test identity)
  --firmware VERSION      running version to report (default: the model's catalogue version)
  --http-port N           the pool's HTTP port (default 80; \`tether lab\` takes a free one)
  --https-port N          the pool's HTTPS port (default 443)
  --web-services URL      the CertProv URL, as DHCP option 43 would give it (default: derived
                          from the Registrar FQDN)
  --device-update URL     the Device Update URL from in-band provisioning (default:
                          http://ucupdates-r2.<domain>/RequestHandler/ucdevice.upx)
  --dhcp-inform IFACE     in stage 5, also send a DHCPINFORM on IFACE and use options 43 (Web
                          Services URL) and 120 (SIP server) as a phone does (needs port 68)
  --dhcp-server IP[:PORT] send it straight to this server; a PORT other than 67 (the lab's
                          responder) means only there, not broadcast
  --dhcp-client-port N    send from UDP port N instead of 68 (0: a free port, no admin rights)
  --device-id GUID        DeviceId to send to CertProv (default: a random GUID)
  --external              then sign in from OUTSIDE the corporate network, as a phone does at home
                          after one internal sign-in: the internal run registers (stage 9) and
                          its facts (external Device Update URL, external Web Services, chain,
                          certificate) drive stages 3-9 through the external DNS only, TLS only
                          (docs/pool/external.md)
  --external-dns HOST:PORT  the DNS server outside (with --lab: the lab's external view)
  --facts FILE            with --external: skip the internal run and use these internal sign-in
                          facts (JSON, as the journal keeps them); a file holding null shows what
                          a phone that never signed in internally gets
  --json                  print one JSON document with every stage's outcome

Exit status: 0 every stage passed, 1 a stage failed (its typed error and fix are shown),
2 a usage error.
`;

const FLAGS = {
  domain: flag.string(),
  dns: flag.string(),
  pin: flag.string(),
  ntlm: flag.string(),
  sip: flag.string(),
  'root-fingerprint': flag.repeatable(),
  'trust-root': flag.string(),
  register: flag.boolean(),
  download: flag.boolean(),
  model: flag.string(),
  mac: flag.string(),
  serial: flag.string(),
  firmware: flag.string(),
  'http-port': flag.port(),
  'https-port': flag.port(),
  'web-services': flag.string(),
  'device-update': flag.string(),
  'device-id': flag.string(),
  'dhcp-inform': flag.string(),
  'dhcp-server': flag.value(dhcpServerAddress),
  'dhcp-client-port': flag.port(0),
  lab: LAB_FLAG,
  external: flag.boolean(),
  'external-dns': flag.string(),
  facts: flag.string(),
  json: flag.boolean(),
};

export function parseTestBootstrapArgs(args: string[]) {
  const { flags: f } = parseArgs(args, FLAGS, { usage: USAGE, refused: NO_PASSWORD_ON_ARGV });
  if (f.domain === undefined && f.lab === undefined) throw usageError(`--domain (or --lab) is required.\n\n${USAGE}`);
  if ((f.pin === undefined) === (f.ntlm === undefined)) throw usageError(`Give either --pin (PIN sign-in) or --ntlm (Windows sign-in).\n\n${USAGE}`);
  if (f.ntlm !== undefined && f.sip === undefined) throw usageError(`--ntlm needs --sip.\n\n${USAGE}`);
  if ((f['dhcp-server'] !== undefined || f['dhcp-client-port'] !== undefined) && f['dhcp-inform'] === undefined) {
    throw usageError('--dhcp-server and --dhcp-client-port need --dhcp-inform IFACE.');
  }
  if (!f.external && (f['external-dns'] !== undefined || f.facts !== undefined)) throw usageError('--external-dns and --facts need --external.');
  return {
    domain: f.domain,
    dns: f.dns,
    pin: f.pin,
    account: f.ntlm,
    sip: f.sip,
    fingerprints: f['root-fingerprint'],
    trustRoot: f['trust-root'],
    register: f.register,
    download: f.download,
    model: f.model,
    mac: f.mac,
    serial: f.serial,
    firmware: f.firmware,
    httpPort: f['http-port'],
    httpsPort: f['https-port'],
    webServices: f['web-services'],
    deviceUpdate: f['device-update'],
    deviceId: f['device-id'],
    dhcpIface: f['dhcp-inform'],
    dhcpServer: f['dhcp-server'],
    dhcpClientPort: f['dhcp-client-port'],
    lab: f.lab,
    external: f.external,
    externalDns: f['external-dns'],
    facts: f.facts,
    json: f.json,
  };
}

export type TestBootstrapArgs = ReturnType<typeof parseTestBootstrapArgs>;

/**
 * `--lab DIR`: the running lab's DNS server, domain, ports, root fingerprint (a pin, as a first-use
 * decision would make) and, with --dhcp-inform, its DHCP responder. A flag the user gave wins; an
 * explicit --root-fingerprint or --trust-root replaces the lab's root rather than adding to it.
 */
export async function withLabDefaults(a: TestBootstrapArgs): Promise<TestBootstrapArgs & { domain: string }> {
  if (a.lab === undefined) return { ...a, domain: a.domain! };
  const lab = await readLabEndpoints(a.lab);
  const ownTrust = a.fingerprints.length > 0 || a.trustRoot !== undefined;
  return {
    ...a,
    domain: a.domain ?? lab.domain,
    dns: a.dns ?? lab.dns,
    httpPort: a.httpPort ?? lab.httpPort,
    httpsPort: a.httpsPort ?? lab.httpsPort,
    fingerprints: ownTrust ? a.fingerprints : [lab.rootFingerprint],
    dhcpServer: a.dhcpServer ?? (a.dhcpIface !== undefined && lab.dhcp ? lab.dhcp : undefined),
    externalDns: a.externalDns ?? lab.external?.dns,
  };
}

/**
 * `NUMBER:PIN` → both; `NUMBER` alone → the PIN is asked for. Split at the LAST colon and only
 * when digits follow it, so `tel:+14255550101` stays a number.
 */
export function splitPinArgument(value: string): { phoneOrExt: string; pin: string | null } {
  const at = value.lastIndexOf(':');
  // ':PIN' (the number forgotten) would otherwise send, and show, the PIN as the number.
  if (at === 0) throw usageError("--pin: the phone number or extension is missing before the ':'.");
  if (at > 0) {
    const head = value.slice(0, at);
    const tail = value.slice(at + 1);
    if (/^\d+$/.test(tail) && head.toLowerCase() !== 'tel') return { phoneOrExt: head, pin: tail };
  }
  return { phoneOrExt: value, pin: null };
}

type Outcome = 'done' | 'skipped' | 'failed' | 'not-run' | 'not-applicable';

export interface StageRow {
  readonly n: number;
  readonly id: StageId;
  readonly title: string;
  readonly outcome: Outcome;
  readonly summary: string | null;
  readonly error: ErrorReport | null;
}

const NO_PHONE = 'not applicable without a phone';

/** Folds the stage events of a run into the nine rows people and --json see. */
export function stageRows(events: readonly StageEvent[], register: boolean): StageRow[] {
  return STAGES.map((s): StageRow => {
    const base = { n: s.n, id: s.id, title: s.title };
    const end = events.find((e) => e.stage === s.id && (e.type === 'stage-end' || e.type === 'stage-failed'));
    if (end?.type === 'stage-end') return { ...base, outcome: end.outcome, summary: end.summary, error: null };
    if (end?.type === 'stage-failed') return { ...base, outcome: 'failed', summary: null, error: errorReport(end.error) };
    if (s.id === 'vlan' || s.id === 'ip') return { ...base, outcome: 'not-applicable', summary: NO_PHONE, error: null };
    if (s.id === 'logon' && !register) return { ...base, outcome: 'not-applicable', summary: 'not run without --register', error: null };
    return { ...base, outcome: 'not-run', summary: 'not run (an earlier stage failed)', error: null };
  });
}

const LABEL: Record<Outcome, string> = { done: 'ok', skipped: 'skipped', failed: 'FAILED', 'not-run': '-', 'not-applicable': 'n/a' };

const TITLE_WIDTH = Math.max(...STAGES.map((s) => s.title.length));
const INDENT = ' '.repeat(8);

/** One stage row for people, with the fix under a failure and stage 5's candidates under it. */
function rowLines(r: StageRow, found: Pick<PartialBootstrapResult, 'discovery'>): string[] {
  const lines = [`${String(r.n).padStart(2)}  ${r.title.padEnd(TITLE_WIDTH)}  ${LABEL[r.outcome].padEnd(7)} ${r.error ? `${r.error.code}: ${r.error.message}` : (r.summary ?? '')}`];
  if (r.error) {
    lines.push(`${INDENT}fix: ${r.error.fix}`);
    if (r.error.cmdlet) lines.push(`${INDENT}check: ${r.error.cmdlet}`);
  }
  if (r.id === 'registrar' && r.outcome === 'done' && found.discovery) {
    const d = found.discovery.dhcp;
    lines.push(
      d
        ? `${INDENT}DHCP from ${d.server}: option 43 ${d.certProvUrl ?? 'absent or unusable'}; option 120 ${d.sipServers?.join(', ') ?? 'absent or unusable'}`
        : `${INDENT}DHCP: ${found.discovery.dhcpProblem ?? 'no answer'}`,
    );
    for (const c of found.discovery.candidates) {
      const target = c.host === null ? '-' : `${c.host}:${c.port}`;
      lines.push(`${INDENT}${c.step}. ${c.label}: ${c.query} -> ${target}  ${c.status === 'chosen' ? 'CHOSEN' : c.status}: ${c.reason}`);
    }
  }
  return lines;
}

/**
 * People's output, written as the run goes (a slow pool shows where it is): the header and rows 1–2
 * at the first stage, each stage's row when it ends, the rest and the verdict at the end.
 */
export class RowPrinter {
  private readonly printed = new Set<StageId>();
  private started = false;

  constructor(
    private readonly io: CliIO,
    private readonly header: string,
    private readonly register: boolean,
    private readonly found: Pick<PartialBootstrapResult, 'discovery'>,
    /** The verdict when every stage passed. */
    private readonly passed = 'Result: every stage that can run without a phone passed.',
  ) {}

  onEvent(events: readonly StageEvent[], e: StageEvent): void {
    if (!this.started) {
      this.started = true;
      this.io.stdout.write(`${this.header}\n\n`);
    }
    if (e.type === 'stage-start') this.flushUpTo(events, STAGES.find((s) => s.id === e.stage)!.n - 1);
    if (e.type === 'stage-end' || e.type === 'stage-failed') this.flushUpTo(events, STAGES.find((s) => s.id === e.stage)!.n);
  }

  finish(events: readonly StageEvent[]): void {
    this.flushUpTo(events, STAGES.length);
    const failed = stageRows(events, this.register).find((r) => r.outcome === 'failed');
    this.io.stdout.write(`\n${failed ? `Result: stage ${failed.n} failed (${failed.error!.code}).` : this.passed}\n`);
  }

  private flushUpTo(events: readonly StageEvent[], n: number): void {
    for (const row of stageRows(events, this.register)) {
      if (row.n > n || this.printed.has(row.id)) continue;
      this.printed.add(row.id);
      this.io.stdout.write(rowLines(row, this.found).join('\n') + '\n');
    }
  }
}

/** What --json carries of the stages that passed (certificates are public; nothing secret is in it). */
export function resultJson(r: PartialBootstrapResult) {
  return {
    deviceUpdate: r.deviceUpdate ?? null,
    update: r.update ?? null,
    registrar: r.discovery?.registrar ?? null,
    dhcp: r.discovery?.dhcp ?? null,
    dhcpProblem: r.discovery?.dhcpProblem ?? null,
    candidates: r.discovery?.candidates ?? null,
    webServices: r.discovery?.webServices ?? null,
    chain: r.chain ?? null,
    auth: r.auth ?? null,
    certificate: r.certificate ?? null,
    logon: r.logon ?? null,
  };
}

export const testBootstrapCommand: Command = {
  name: 'test-bootstrap',
  summary: 'Run stages 3–8 against the pool with a throw-away key and no phone, like Test-CsPhoneBootstrap',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const a = await withLabDefaults(parseTestBootstrapArgs(argv));
    const resolver = resolverFor(a.dns);
    const rootPems = a.trustRoot === undefined ? [] : [await readCertificatePem(a.trustRoot, 'the trusted-root file')];
    let auth: WebTicketAuth;
    if (a.pin !== undefined) {
      const { phoneOrExt, pin } = splitPinArgument(a.pin);
      auth = { kind: 'pin', phoneOrExt, pin: pin ?? (await readSecret(io, 'TETHER_PIN', `PIN for ${phoneOrExt}: `, 'PIN')) };
    } else {
      const { domain, user } = parseAccount(a.account!);
      auth = { kind: 'ntlm', domain, username: user, password: await readSecret(io, 'TETHER_PASSWORD', `Password for ${a.account}: `, 'password') };
    }
    const options: PoolBootstrapOptions = {
      domain: a.domain,
      resolver,
      auth,
      ...(a.sip === undefined ? {} : { sipUri: a.sip }),
      ...(a.httpPort === undefined ? {} : { httpPort: a.httpPort }),
      ...(a.httpsPort === undefined ? {} : { httpsPort: a.httpsPort }),
      ...(a.webServices === undefined ? {} : { webServicesUrl: a.webServices }),
      ...(a.deviceUpdate === undefined ? {} : { deviceUpdateUrl: a.deviceUpdate }),
      ...(a.deviceId === undefined ? {} : { deviceId: a.deviceId }),
      ...(a.dhcpIface === undefined
        ? {}
        : {
            askDhcp: () => dhcpInform(dhcpInformTarget(a.dhcpIface!, a.dhcpServer, a.dhcpClientPort)),
          }),
      phone: {
        ...(a.model === undefined ? {} : { model: a.model }),
        ...(a.mac === undefined ? {} : { mac: a.mac }),
        ...(a.serial === undefined ? {} : { serial: a.serial }),
        ...(a.firmware === undefined ? {} : { runningVersion: a.firmware }),
      },
      trust: { rootFingerprints: a.fingerprints, rootPems },
      download: a.download,
      register: a.register || a.external,
    };

    if (a.external && a.externalDns === undefined) {
      throw usageError('--external needs the DNS server outside: --external-dns HOST:PORT, or --lab with a lab running --view external or both.');
    }
    // The internal run's key outlives it, so the external run can use its certificate (stage 4).
    const key = a.external && a.facts === undefined ? makeThrowawayKey() : undefined;
    try {
      return await testBootstrap(a, options, io, key);
    } finally {
      key?.dispose();
    }
  },
};

async function testBootstrap(a: TestBootstrapArgs & { domain: string }, options: PoolBootstrapOptions, io: CliIO, key: ThrowawayKey | undefined): Promise<number> {
    const events: StageEvent[] = [];
    const partial: PartialBootstrapResult = {};
    let result: PoolBootstrapResult | null = null;
    let failure: TetherError | null = null;
    const skipInternal = a.external && a.facts !== undefined;
    try {
      const printer = a.json || skipInternal ? null : new RowPrinter(io, `Test bootstrap for ${a.domain}, with a throw-away key and no phone`, options.register ?? false, partial);
      try {
        if (!skipInternal) result = await runPoolBootstrap({ ...options, partial, ...(key ? { key } : {}) }, (e) => {
          events.push(e);
          printer?.onEvent(events, e);
        });
      } finally {
        if (events.length > 0) printer?.finish(events);
      }
    } catch (err) {
      failure = toTetherError(err);
      // Refused before any stage ran (bad domain, model, fingerprint): a usage error.
      if (!events.some((e) => e.type === 'stage-failed')) throw failure;
    }
    const outside = a.external && failure === null ? await runOutside(a, options, io, result, key) : null;
    if (a.json) {
      const rows = skipInternal ? null : stageRows(events, options.register ?? false);
      const error = failure ? errorReport(failure) : null;
      const ok = failure === null && (outside === null || outside.failure === null);
      io.stdout.write(JSON.stringify({ ok, domain: a.domain, stages: rows, result: skipInternal ? null : resultJson(result ?? partial), error, ...(a.external ? { external: outside?.json ?? null } : {}) }) + '\n');
    }
    return failure === null && (outside === null || outside.failure === null) ? EXIT.ok : EXIT.failure;
}

