import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { COMMANDS } from './commands';
import { EXIT, reportError, reraiseInterrupt, untilSignal, type CliIO } from './io';
import { terminalSafe, terminalSafeIO } from './terminal-text';
import { disableCoreDumps, takeSecretsFromEnv } from '../process-hardening';

const HELP_HEADER = 'tether: signs a USB-tethered Lync Phone Edition phone in on its user\'s behalf.\n\nUsage: tether COMMAND [options]\n\nCommands:\n';

function helpText(): string {
  const width = Math.max(4, ...COMMANDS.map((c) => c.name.length));
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return HELP_HEADER + [`  ${'help'.padEnd(width)}  Show this help, or a command's usage: tether help COMMAND (or tether COMMAND --help)`, ...rows].join('\n') + '\n';
}

/** Reads a secret from the terminal without echoing it. */
function promptSecret(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!process.stdin.isTTY) {
      reject(new Error('No terminal to ask for the secret on; set it in the environment instead.'));
      return;
    }
    const muted = new Writable({ write: (_chunk, _enc, done) => done() });
    // The question names the account from argv; it passes the same filter as every command's output.
    process.stderr.write(terminalSafe(question));
    const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
    // In raw mode Ctrl-C reaches readline, not the process: without this the prompt would only pause.
    rl.once('SIGINT', reraiseInterrupt(rl));
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

let coreDumpsOff = false;
const secrets: Record<string, string> = {};

/**
 * The real process's IO. Every call moves TETHER_PASSWORD and TETHER_PIN out of process.env into
 * this IO's own env, so child processes and diagnostic reports never see them; the first call then
 * switches core dumps off as far as the OS lets pure Node (main/process-hardening.ts).
 */
export function processIO(): CliIO {
  // Secrets first: switching core dumps off starts a child (prlimit, found on PATH), which must not
  // inherit them.
  Object.assign(secrets, takeSecretsFromEnv(process.env));
  if (!coreDumpsOff) {
    disableCoreDumps();
    coreDumpsOff = true;
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: { ...process.env, ...secrets },
    promptSecret,
    untilStopped: untilSignal,
  };
}

/** Runs one CLI invocation and returns its exit code. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  // Every command's output, human or JSON, passes the one terminal-escaping filter.
  io = terminalSafeIO(io);
  const [name, ...rest] = argv;
  const isHelp = (word: string | undefined) => word === undefined || word === 'help' || word === '--help' || word === '-h';
  // `tether help COMMAND` and `tether COMMAND --help` both show the command's usage.
  const topic = isHelp(name) ? rest[0] : name;
  const command = COMMANDS.find((c) => c.name === topic);
  if (topic !== undefined && topic !== 'help' && !command) {
    io.stderr.write(`tether: unknown command '${topic.slice(0, 60)}'\n\n` + helpText());
    return EXIT.usage;
  }
  if (!command) {
    io.stdout.write(helpText());
    return EXIT.ok;
  }
  if (isHelp(name) || rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage.trimEnd() + '\n');
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    return reportError(err, io, rest.includes('--json'));
  }
}
