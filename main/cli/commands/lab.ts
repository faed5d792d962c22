import { startLab, type FaultName, type LabOptions } from '../../../lab';
import { parseFaultName } from '../../../lab/faults';
import { EXIT, usageError, type CliIO, type Command } from '../io';

const USAGE = `Usage: tether lab [--state DIR] [--fault NAME]… [--http-port N] [--https-port N] [--dns-port N]
                 [--dhcp-port N] [--dhcp-vlan N|none]
                 [--domain D] [--pool FQDN] [--slow-ms N] [--lockout N] [--quiet]

Runs the emulated Lync pool on 127.0.0.1 (DNS, HTTP, HTTPS and every lab service) until Ctrl-C.
The FIRST line on stdout is one JSON object with its endpoints: dns, domain, http, https, admin,
each service's endpoints (e.g. sip), ca (root fingerprint and PEM path to trust), the demo users
with their LAB-ONLY credentials, the faults on, and the state folder. Logs go to stderr.

  --state DIR      state folder (CA, users, stores); default .tether-lab in this folder
  --fault NAME     switch a fault on from the start (repeatable); see docs/lab.md
  --http-port N    --https-port N    --dns-port N     fixed ports (default: free ones)
  --dhcp-port N    UDP port of the DHCPINFORM responder (default: a free one; 67 needs root)
  --dhcp-vlan N    voice VLAN answered to CPE-OCPHONE informs (default 20; 'none' answers none)
  --domain D       SIP domain (default contoso.test)
  --pool FQDN      Front End pool FQDN (default pool01.<domain>)
  --slow-ms N      delay of the slow-responses fault (default 2000)
  --lockout N      bad PINs before an account locks (default 5)
  --quiet          no log lines on stderr
Faults can also be switched while it runs: POST {"fault":"srv-missing","on":true} to <admin>.
`;

function parsePort(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw usageError(`${flag} must be a port number 0–65535, not '${v}'.`);
  return n;
}

export function parseLabArgs(args: string[]): LabOptions & { quiet: boolean } {
  const faults: FaultName[] = [];
  const out: LabOptions & { quiet: boolean } = { quiet: false, faults };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw usageError(`${a} needs a value.\n\n${USAGE}`);
      return v;
    };
    if (a === '--state') out.stateDir = value();
    else if (a === '--fault') faults.push(parseFaultName(value()));
    else if (a === '--http-port') out.httpPort = parsePort(a, value());
    else if (a === '--https-port') out.httpsPort = parsePort(a, value());
    else if (a === '--dns-port') out.dnsPort = parsePort(a, value());
    else if (a === '--dhcp-port') out.dhcpPort = parsePort(a, value());
    else if (a === '--dhcp-vlan') {
      const v = value();
      if (v !== 'none' && !(/^\d{1,4}$/.test(v) && Number(v) >= 1 && Number(v) <= 4094)) throw usageError(`--dhcp-vlan must be a VLAN ID 1–4094 or 'none', not '${v}'.`);
      out.dhcpVlan = v === 'none' ? null : Number(v);
    }
    else if (a === '--domain') out.domain = value();
    else if (a === '--pool') out.poolFqdn = value();
    else if (a === '--slow-ms') {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) > 600_000) throw usageError('--slow-ms must be 0–600000 milliseconds.');
      out.slowMs = Number(v);
    }
    else if (a === '--lockout') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw usageError('--lockout must be a whole number ≥ 1.');
      out.lockoutThreshold = n;
    } else if (a === '--quiet') out.quiet = true;
    else if (a === '--json') continue; // the first line is JSON anyway
    else throw usageError(`Unknown option '${a}'.\n\n${USAGE}`);
  }
  return out;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

export const labCommand: Command = {
  name: 'lab',
  summary: 'Run the emulated Lync pool (DNS, Web Services, CA, registrar) on loopback',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const { quiet, ...options } = parseLabArgs(args);
    const log = quiet ? undefined : (m: string) => void io.stderr.write(`lab: ${m}\n`);
    // Listen for the stop signal before starting, so a signal during start-up is not lost.
    const stopped = io.untilStopped ? io.untilStopped() : waitForSignal();
    const lab = await startLab({ ...options, log });
    io.stdout.write(JSON.stringify(lab.endpoints) + '\n');
    log?.(`running; the demo users' passwords and PINs above are lab data only. Ctrl-C stops.`);
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
