import { tetherDataFolder } from '../../../common/data-folder';
import { Journal } from '../../journal';
import { flag, parseArgs } from '../args';
import { readSecret } from '../inputs';
import { EXIT, usageError, type CliIO, type Command } from '../io';
import { explainFailures } from '../job-view';
import { LAB_FLAG, labFlagHelp } from '../lab-endpoints';
import { openProvisionWorld } from '../provision-world';
import { driveJobs } from './provision';

const USAGE = `Usage: tether jobs [--unfinished] [--resume [--lab [DIR] | --dns HOST:PORT]] [--data DIR] [--json]

Lists the sign-in jobs in the journal, newest last: state, the stage reached, the error. With
--resume, runs every unfinished job again from its last completed stage (after a crash, a kill or
Ctrl-C); credentials are never kept, so the PIN or password is asked again (TETHER_PIN /
TETHER_PASSWORD or a prompt) when a job reaches stage 7.

  --unfinished            only jobs that did not end (signed in, failed or cancelled)
  --resume                resume the unfinished jobs (virtual phones come back from the data folder)
${labFlagHelp(26)}
  --dns HOST:PORT         the pool's DNS server (phones on USB)
  --data DIR              Tether's data folder (default the per-user folder)
  --json                  one JSON object per job (with --resume: stage events and results)
`;

const FLAGS = { unfinished: flag.boolean(), resume: flag.boolean(), lab: LAB_FLAG, dns: flag.string(), data: flag.string(), json: flag.boolean() };

/** A virtual phone's serial as `provision --virtual` makes it: MODEL-Vnnn. */
const VIRTUAL_SERIAL = /^([A-Z0-9]+)-V\d{3}$/;

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'List sign-in jobs from the journal; --resume runs the unfinished ones again',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const a = parseArgs(argv, FLAGS, { usage: USAGE }).flags;
    if (!a.resume && (a.lab !== undefined || a.dns !== undefined)) throw usageError('--lab and --dns go with --resume.');
    const data = a.data ?? tetherDataFolder();
    if (!a.resume) {
      const journal = await Journal.open({ dir: data });
      try {
        const jobs = journal.jobs(a.unfinished ? { unfinishedOnly: true } : {});
        for (const r of jobs) {
          const line = { jobId: r.jobId, serial: r.spec.serial, kind: r.spec.kind, user: r.spec.user, state: r.state, lastCompleted: r.lastCompleted, attempts: r.attempts, error: r.error?.code ?? null, updatedAt: r.updatedAt };
          io.stdout.write(a.json ? JSON.stringify(line) + '\n' : `${r.jobId}  ${r.spec.serial.padEnd(18)} ${r.state.padEnd(17)} ${r.lastCompleted ? `after ${r.lastCompleted}` : ''}${r.error ? `  ${r.error.code}` : ''}\n`);
        }
        if (jobs.length === 0 && !a.json) io.stdout.write('No jobs.\n');
      } finally {
        journal.close();
      }
      return EXIT.ok;
    }

    // Which phones the unfinished jobs need: virtual ones come back by serial from the data folder.
    const peek = await Journal.open({ dir: data });
    const unfinished = peek.jobs({ unfinishedOnly: true });
    peek.close();
    if (unfinished.length === 0) {
      if (!a.json) io.stdout.write('No unfinished jobs.\n');
      return EXIT.ok;
    }
    const virtual = unfinished.flatMap((r) => {
      const m = VIRTUAL_SERIAL.exec(r.spec.serial);
      return m ? [{ model: m[1]!, serial: r.spec.serial, speed: 'high' as const }] : [];
    });
    if (virtual.length > 0 && a.lab === undefined) throw usageError('Unfinished jobs of virtual phones need their lab: add --lab [DIR].');
    // Jobs that all sign in from outside resume there: their DNS, and their virtual phones, are outside.
    const external = unfinished.every((r) => r.spec.network === 'external');
    const world = await openProvisionWorld({ data, ...(a.lab === undefined ? {} : { lab: a.lab }), ...(a.dns === undefined ? {} : { dns: a.dns }), virtual, external });
    try {
      const secrets = new Map<string, Promise<string>>();
      const secretFor = (kind: 'pin' | 'ntlm') => {
        let s = secrets.get(kind);
        if (!s) secrets.set(kind, (s = readSecret(io, kind === 'pin' ? 'TETHER_PIN' : 'TETHER_PASSWORD', kind === 'pin' ? 'PIN: ' : 'Password: ', kind === 'pin' ? 'PIN' : 'password')));
        return s;
      };
      const finals = await driveJobs(world.service, io, a.json, async () => world.service.resumeUnfinished(), secretFor);
      if (!a.json) explainFailures(finals, io);
      return finals.every((j) => j.state === 'signed-in') ? EXIT.ok : EXIT.failure;
    } finally {
      await world.close();
    }
  },
};
