import type { JobView, SignInKind, SignInSpec } from '../../../common/service/contract';
import { parseVirtualList, type VirtualSpec } from '../../device/fleet';
import type { TetherServiceHost } from '../../service';
import { flag, parseArgs } from '../args';
import { readSecret, NO_PASSWORD_ON_ARGV } from '../inputs';
import { EXIT, usageError, type CliIO, type Command } from '../io';
import { explainFailures, printJobs } from '../job-view';
import { LAB_FLAG, labFlagHelp } from '../lab-endpoints';
import { openProvisionWorld } from '../provision-world';
import { virtualSpecs } from '../virtual-lab';

const USAGE = `Usage: tether provision (--virtual MODEL[,MODEL…] | --serial S | --all)
                       (--pin NUMBER | --ntlm 'DOMAIN\\user' --sip URI)
                       [--lab [DIR] | --domain D --dns HOST:PORT] [--external] [--data DIR] [--json]

Signs phones in through the nine stages, all at once, as jobs the journal remembers: a job stopped
by a crash or Ctrl-C resumes from its last completed stage (\`tether jobs --resume\`).

  --virtual MODEL[,…]     virtual phones (CX600, CX700, CX3000, HP4120, AASTRA6725IP) on the lab's
                          network (needs --lab); serials MODEL-V001, MODEL-V002 … kept in the data
                          folder, so the same phones come back
  --serial S              the USB phone with this serial (repeatable)
  --all                   every phone attached
  --pin NUMBER            PIN sign-in as this phone number or extension; the PIN comes from
                          TETHER_PIN or is asked for without echo
  --ntlm 'DOMAIN\\user'    Windows sign-in; the password comes from TETHER_PASSWORD or a prompt
  --sip URI               the user's SIP URI (with --ntlm)
${labFlagHelp(26)}
  --domain D              SIP domain (default: the phone's DHCP domain)
  --dns HOST:PORT         the pool's DNS server
  --external              sign in from outside the corporate network (needs one internal sign-in first)
  --data DIR              Tether's data folder (journal, image cache, virtual phones); default the
                          per-user folder
  --json                  one JSON object per line: stage events, then a result per phone

Exit status: 0 every phone signed in, 1 any failed or was cancelled, 2 a usage error.
`;

const FLAGS = {
  virtual: flag.list((t) => t),
  serial: flag.repeatable((t) => t),
  all: flag.boolean(),
  pin: flag.string(),
  ntlm: flag.string(),
  sip: flag.string(),
  lab: LAB_FLAG,
  domain: flag.string(),
  dns: flag.string(),
  external: flag.boolean(),
  data: flag.string(),
  json: flag.boolean(),
};

export interface ProvisionArgs {
  readonly virtual: VirtualSpec[];
  readonly serials: string[];
  readonly all: boolean;
  readonly kind: SignInKind;
  readonly user: string;
  readonly sipUri?: string;
  readonly lab?: string;
  readonly domain?: string;
  readonly dns?: string;
  readonly external: boolean;
  readonly data?: string;
  readonly json: boolean;
}

export function parseProvisionArgs(argv: readonly string[]): ProvisionArgs {
  const f = parseArgs(argv, FLAGS, { usage: USAGE, refused: { ...NO_PASSWORD_ON_ARGV, '--secret': 'Secrets are never taken from the command line; set TETHER_PIN or TETHER_PASSWORD.' } }).flags;
  const targets = [f.virtual.length > 0, f.serial.length > 0, f.all].filter(Boolean).length;
  if (targets !== 1) throw usageError(`Name the phones with exactly one of --virtual, --serial or --all.\n\n${USAGE}`);
  if ((f.pin === undefined) === (f.ntlm === undefined)) throw usageError(`Give --pin NUMBER or --ntlm 'DOMAIN\\user' (one of them).\n\n${USAGE}`);
  if (f.ntlm !== undefined && f.sip === undefined) throw usageError('--ntlm needs --sip URI (the user\'s SIP address).');
  if (f.pin !== undefined && f.sip !== undefined) throw usageError('--sip goes with --ntlm; a PIN sign-in learns the address from the pool.');
  if (f.lab !== undefined && (f.domain !== undefined || f.dns !== undefined)) throw usageError('--lab reads the domain and DNS from the running lab; leave out --domain and --dns.');
  if (f.virtual.length > 0 && f.lab === undefined) throw usageError('--virtual phones live on a lab\'s network: add --lab [DIR] (start one with `npx tether lab`).');
  if (f.ntlm !== undefined && !/^[^\\\s]+\\[^\\\s]+$/.test(f.ntlm)) throw usageError(`--ntlm takes DOMAIN\\user, not '${f.ntlm.slice(0, 60)}'.`);
  const models = parseVirtualList(f.virtual).map((v) => v.model);
  return {
    virtual: virtualSpecs(models),
    serials: f.serial,
    all: f.all,
    kind: f.pin !== undefined ? 'pin' : 'ntlm',
    user: (f.pin ?? f.ntlm)!,
    ...(f.sip === undefined ? {} : { sipUri: f.sip }),
    ...(f.lab === undefined ? {} : { lab: f.lab }),
    ...(f.domain === undefined ? {} : { domain: f.domain }),
    ...(f.dns === undefined ? {} : { dns: f.dns }),
    external: f.external,
    ...(f.data === undefined ? {} : { data: f.data }),
    json: f.json,
  };
}

const isTty = (io: CliIO) => (io.stdout as { isTTY?: boolean }).isTTY === true;

/**
 * Runs jobs to their end with the CLI's answers: the secret for every job that asks, the live view,
 * Ctrl-C cancels them all. Returns the final views in the order the jobs ended.
 */
export async function driveJobs(service: TetherServiceHost, io: CliIO, json: boolean, start: () => Promise<string[]>, secret: (kind: SignInKind) => Promise<string>): Promise<JobView[]> {
  const printer = printJobs(service, io, json ? 'json' : isTty(io) ? 'tty' : 'lines');
  const ours = new Set<string>();
  const finals: JobView[] = [];
  const offs = [
    service.on('job', (j) => {
      if (!ours.has(j.jobId) || !['signed-in', 'failed', 'cancelled'].includes(j.state) || finals.some((f) => f.jobId === j.jobId)) return;
      finals.push(j);
      printer.done(j);
    }),
    service.on('needsCredentials', (n) => {
      void secret(n.kind).then(
        (s) => service.provideCredentials({ jobId: n.jobId, secret: s }),
        () => service.cancel({ jobId: n.jobId }),
      );
    }),
  ];
  let stopped = false;
  void io.untilStopped?.().then(() => {
    stopped = true;
    for (const id of ours) void service.cancel({ jobId: id }).catch(() => undefined);
  });
  try {
    for (const id of await start()) ours.add(id);
    if (stopped) for (const id of ours) await service.cancel({ jobId: id }).catch(() => undefined);
    await service.idle();
  } finally {
    for (const off of offs) off();
    printer.stop();
  }
  return finals;
}

export const provisionCommand: Command = {
  name: 'provision',
  summary: 'Sign phones in (virtual ones on a lab, or on USB), all at once, as resumable jobs',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const a = parseProvisionArgs(argv);
    // Asked before the live rows start drawing; kept in this process only, handed to each job that asks.
    const secretText = await readSecret(io, a.kind === 'pin' ? 'TETHER_PIN' : 'TETHER_PASSWORD', a.kind === 'pin' ? 'PIN: ' : `Password for ${a.user}: `, a.kind === 'pin' ? 'PIN' : 'password');
    const world = await openProvisionWorld({
      ...(a.data === undefined ? {} : { data: a.data }),
      ...(a.lab === undefined ? {} : { lab: a.lab }),
      ...(a.dns === undefined ? {} : { dns: a.dns }),
      ...(a.domain === undefined ? {} : { domain: a.domain }),
      virtual: a.virtual,
      external: a.external,
    });
    try {
      const serials = a.virtual.length > 0 ? a.virtual.map((v) => v.serial!) : a.all ? world.fleet.manager.phones().map((p) => p.identity.serial) : a.serials;
      if (serials.length === 0) throw usageError('No phone is attached (plug one in, or name virtual ones with --virtual).');
      const finals = await driveJobs(
        world.service,
        io,
        a.json,
        async () => {
          const ids: string[] = [];
          for (const serial of serials) {
            const spec: SignInSpec = { serial, kind: a.kind, user: a.user, ...(a.sipUri ? { sipUri: a.sipUri } : {}), network: a.external ? 'external' : 'internal' };
            ids.push((await world.service.startSignIn(spec)).jobId);
          }
          return ids;
        },
        async () => secretText,
      );
      if (!a.json) explainFailures(finals, io);
      return finals.length === serials.length && finals.every((j) => j.state === 'signed-in') ? EXIT.ok : EXIT.failure;
    } finally {
      await world.close();
    }
  },
};
