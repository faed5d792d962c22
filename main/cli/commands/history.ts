import { tetherDataFolder } from '../../../common/data-folder';
import { SERIAL } from '../../../common/service/contract';
import { Journal } from '../../journal';
import { flag, parseArgs } from '../args';
import { EXIT, usageError, type CliIO, type Command } from '../io';

const USAGE = `Usage: tether history SERIAL [--data DIR] [--json]

What the journal remembers of one phone: sign-ins (internal or external), failures, cancellations,
firmware changes, newest last.

  --data DIR   Tether's data folder (default the per-user folder)
  --json       one JSON object per entry
`;

export const historyCommand: Command = {
  name: 'history',
  summary: "One phone's sign-ins, failures and firmware changes, from the journal",
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { flags, positionals } = parseArgs(argv, { data: flag.string(), json: flag.boolean() }, { usage: USAGE, positionals: true });
    if (positionals.length !== 1) throw usageError(`Name one phone serial.\n\n${USAGE}`);
    const serial = positionals[0]!;
    if (!SERIAL.test(serial)) throw usageError(`'${serial.slice(0, 64)}' is not a phone serial (letters, digits, . _ -).`);
    const journal = await Journal.open({ dir: flags.data ?? tetherDataFolder() });
    try {
      const entries = journal.history(serial);
      for (const e of entries) io.stdout.write(flags.json ? JSON.stringify(e) + '\n' : `${new Date(e.at).toISOString()}  ${e.kind.padEnd(17)} ${e.summary}\n`);
      if (entries.length === 0 && !flags.json) io.stdout.write(`The journal has nothing on ${serial}.\n`);
    } finally {
      journal.close();
    }
    return EXIT.ok;
  },
};
