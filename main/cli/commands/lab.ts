import { startLab, type LabOptions } from '../../../lab';
import { LAB_VIEWS, type LabView } from '../../../lab/external/view';
import { parseFaultName } from '../../../lab/faults';
import { definedOnly, flag, parseArgs } from '../args';
import { EXIT, untilSignal, usageError, type CliIO, type Command } from '../io';
import { DEFAULT_LAB_DIR, refuseRunningLab } from '../lab-endpoints';

const USAGE = `Usage: tether lab [--state DIR] [--fault NAME]… [--http-port N] [--https-port N] [--dns-port N]
                 [--dhcp-port N] [--dhcp-vlan N|none]
                 [--view internal|external|both] [--external-dns-port N] [--external-https-port N]
                 [--domain D] [--pool FQDN] [--slow-ms N] [--lockout N] [--quiet] [--json]

Runs the emulated Lync pool on 127.0.0.1 (DNS, HTTP, HTTPS and every lab service) until Ctrl-C.
The FIRST line on stdout is one JSON object with its endpoints: dns, domain, http, https, admin,
each service's endpoints (e.g. sip), ca (root fingerprint and PEM path to trust), the demo users
with their LAB-ONLY credentials, the faults on, and the state folder. Logs go to stderr.
While it runs, the same document WITHOUT the passwords and PINs (and with the lab's pid) is in
<state>/endpoints.json, so other commands can use --lab [DIR]; a clean stop removes it.

  --state DIR      state folder (CA, users, stores); default: private, under your data folder
                   (${DEFAULT_LAB_DIR}); one another user owns or can write is refused
  --fault NAME     switch a fault on from the start (repeatable); see docs/lab.md
  --http-port N    --https-port N    --dns-port N     fixed ports (default: free ones)
  --dhcp-port N    UDP port of the DHCPINFORM responder (default: a free one; 67 needs root)
  --dhcp-vlan N    voice VLAN answered to CPE-OCPHONE informs (default 20; 'none' answers none)
  --view V         internal (default): the corporate network's view; external: the view from
                   outside (external DNS zone with the edge names sip, sipexternal, lyncext;
                   the external Web Services over HTTPS only); both: the two at once. With
                   'external' alone, 'dns' is the external DNS server. See docs/lab.md
  --external-dns-port N  --external-https-port N   the external view's ports (default: free ones)
  --domain D       SIP domain (default contoso.test)
  --pool FQDN      Front End pool FQDN (default pool01.<domain>)
  --slow-ms N      delay of the slow-responses fault (default 2000)
  --lockout N      bad PINs before an account locks (default 5)
  --quiet          no log lines on stderr
  --json           accepted for symmetry: the first line is JSON anyway
One lab per state folder: a second one on the folder of a running lab is refused (exit 2).
Faults can also be switched while it runs: POST {"fault":"srv-missing","on":true} to <admin>
with Content-Type: application/json and Authorization: Bearer <adminToken> (also in
<state>/admin-token), addressed to 127.0.0.1:PORT: a web page cannot forge that.
`;

const FLAGS = {
  state: flag.string(),
  fault: flag.repeatable(parseFaultName),
  'http-port': flag.port(0),
  'https-port': flag.port(0),
  'dns-port': flag.port(0),
  'dhcp-port': flag.port(0),
  'dhcp-vlan': flag.value((v): number | null => {
    if (v !== 'none' && !(/^\d{1,4}$/.test(v) && Number(v) >= 1 && Number(v) <= 4094)) throw usageError(`--dhcp-vlan must be a VLAN ID 1–4094 or 'none', not '${v}'.`);
    return v === 'none' ? null : Number(v);
  }),
  view: flag.value((v) => {
    if (!(LAB_VIEWS as readonly string[]).includes(v)) throw usageError(`--view must be ${LAB_VIEWS.join(', ')}, not '${v}'.`);
    return v as LabView;
  }),
  'external-dns-port': flag.port(0),
  'external-https-port': flag.port(0),
  domain: flag.string(),
  pool: flag.string(),
  'slow-ms': flag.number({ max: 600_000, message: '--slow-ms must be 0–600000 milliseconds.' }),
  lockout: flag.number({ min: 1, message: '--lockout must be a whole number ≥ 1.' }),
  quiet: flag.boolean(),
  json: flag.boolean(), // accepted and ignored: the first line is JSON anyway
};

export function parseLabArgs(args: string[]): LabOptions & { quiet: boolean } {
  const { flags: f } = parseArgs(args, FLAGS, { usage: USAGE });
  // Only what was given: startLab's defaults fill the rest.
  return definedOnly({
    quiet: f.quiet,
    faults: f.fault,
    stateDir: f.state,
    httpPort: f['http-port'],
    httpsPort: f['https-port'],
    dnsPort: f['dns-port'],
    dhcpPort: f['dhcp-port'],
    dhcpVlan: f['dhcp-vlan'],
    view: f.view,
    externalDnsPort: f['external-dns-port'],
    externalHttpsPort: f['external-https-port'],
    domain: f.domain,
    poolFqdn: f.pool,
    slowMs: f['slow-ms'],
    lockoutThreshold: f.lockout,
  });
}

export const labCommand: Command = {
  name: 'lab',
  summary: 'Run the emulated Lync pool (DNS, DHCPINFORM, Web Services, CA, Device Update, registrar) on loopback',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const { quiet, ...options } = parseLabArgs(args);
    const log = quiet ? undefined : (m: string) => void io.stderr.write(`lab: ${m}\n`);
    // Listen for the stop signal before starting, so a signal during start-up is not lost.
    await refuseRunningLab(options.stateDir ?? DEFAULT_LAB_DIR);
    const stopped = io.untilStopped ? io.untilStopped() : untilSignal();
    const lab = await startLab({ ...options, log });
    io.stdout.write(JSON.stringify(lab.endpoints) + '\n');
    log?.(`running; the demo users' passwords and PINs above are lab data only (not in ${lab.context.stateDir}/endpoints.json). Ctrl-C stops.`);
    await stopped;
    // A supervisor may deliver the signal twice (e.g. to the process and to its group); a repeat
    // while stopping must not kill the lab halfway through saving its state.
    const repeat = () => log?.('already stopping');
    process.on('SIGINT', repeat);
    process.on('SIGTERM', repeat);
    try {
      await lab.stop();
    } finally {
      process.off('SIGINT', repeat);
      process.off('SIGTERM', repeat);
    }
    log?.('stopped');
    return EXIT.ok;
  },
};
