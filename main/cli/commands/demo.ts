import { createInterface } from 'node:readline';
import { TetherError, toTetherError } from '../../../common/errors';
import { STAGES, stageNumber, type StageId } from '../../../common/stages';
import { FAULT_NAMES, type FaultName } from '../../../lab';
import { runPhoneBootstrap, type PairingRequest, type PhoneAuth, type PhoneBootstrapResult } from '../../bootstrap/phone-bootstrap';
import type { StageEvent } from '../../bootstrap/stage-events';
import { flag, parseArgs } from '../args';
import { startDemoWorld, type DemoWorld } from '../demo-world';
import { autoConfirmPairing } from '../../bootstrap/pairing-auto';
import { errorReport, EXIT, reraiseInterrupt, usageError, type CliIO, type Command } from '../io';
import { refuseRunningLab } from '../lab-endpoints';

const USAGE = `Usage: tether demo [--model CX600] [--fault NAME]… [--sign-in pin|windows] [--state DIR] [--yes] [--json]

Shows what Tether is for, with no phone attached: it starts the lab pool in this process, puts a
newer firmware image for the model into the pool's Device Update service, plugs in a virtual
phone whose network is the lab's (VLAN, DHCP options 43/120, DNS), pairs with it (compare the
code on the phone's display with Tether's), and signs it in through all nine bootstrap stages,
live: the firmware push over USB, the pool's CA chain, the PIN or Windows sign-in, the phone's
own key and certificate, and its registration. Everything is stopped when it ends.

  --model ID            phone model: ${['CX600', 'CX700', 'CX3000', 'HP4120', 'AASTRA6725IP'].join(', ')} (default CX600)
  --fault NAME          switch a lab fault on, to see a failure and its plain-language fix
                        (repeatable): ${FAULT_NAMES.join(', ')}
  --sign-in pin|windows PIN or Windows credentials (default: PIN where the model has PIN sign-in;
                        the CX700 has none, so it uses Windows credentials)
  --state DIR           keep the lab's state in DIR (default: a temporary folder, removed;
                        refused while a tether lab runs on DIR)
  --yes                 confirm the pairing code without asking (also when stdin is not a terminal)
  --json                print one JSON document with every stage's outcome

Exit status: 0 the phone signed in, 1 a stage failed (its typed error and fix are shown),
2 a usage error.
`;

const SIGN_IN = ['pin', 'windows'] as const;

function faultName(text: string): FaultName {
  if (!(FAULT_NAMES as readonly string[]).includes(text)) throw usageError(`Unknown fault '${text.slice(0, 40)}'; known: ${FAULT_NAMES.join(', ')}.`);
  return text as FaultName;
}

function signInKind(text: string, flag: string): (typeof SIGN_IN)[number] {
  if (!(SIGN_IN as readonly string[]).includes(text)) throw usageError(`${flag} is pin or windows, not '${text.slice(0, 20)}'.`);
  return text as (typeof SIGN_IN)[number];
}

const FLAGS = {
  model: flag.value((t) => t.toUpperCase()),
  fault: flag.repeatable(faultName),
  'sign-in': flag.value(signInKind),
  state: flag.string(),
  yes: flag.boolean(),
  json: flag.boolean(),
};

interface DemoArgs {
  model: string;
  faults: FaultName[];
  signIn: 'pin' | 'windows' | null;
  state?: string;
  yes: boolean;
  json: boolean;
}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const f = parseArgs(argv, FLAGS, { usage: USAGE, aliases: { '-y': '--yes' }, unknownNoun: 'argument' }).flags;
  return {
    model: f.model ?? 'CX600',
    // A fault named twice is switched on once.
    faults: [...new Set(f.fault)],
    signIn: f['sign-in'] ?? null,
    ...(f.state === undefined ? {} : { state: f.state }),
    yes: f.yes,
    json: f.json,
  };
}

// ------------------------------------------------------------------------------ presentation

const TITLE_WIDTH = Math.max(...STAGES.map((s) => s.title.length));
const tty = (io: CliIO) => (io.stdout as { isTTY?: boolean }).isTTY === true && io.env.NO_COLOR === undefined;
const paint = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

function stageTitle(id: StageId): string {
  const s = STAGES.find((x) => x.id === id)!;
  return `${String(s.n).padStart(2)}  ${s.title.padEnd(TITLE_WIDTH)}`;
}

function formatSas(sas: string): string {
  return sas.length === 6 ? `${sas.slice(0, 3)} ${sas.slice(3)}` : sas;
}

/** A phone display drawn as a small box. */
function displayBox(text: string, indent = '  '): string {
  const lines = text.split('\n');
  const width = Math.max(16, ...lines.map((l) => l.length));
  return [`${indent}┌${'─'.repeat(width + 2)}┐`, ...lines.map((l) => `${indent}│ ${l.padEnd(width)} │`), `${indent}└${'─'.repeat(width + 2)}┘`].join('\n') + '\n';
}

/** One line per stage event; firmware-push progress at most every tenth. */
class LivePrinter {
  private lastTenth = new Map<StageId, number>();
  constructor(
    private readonly io: CliIO,
    private readonly color: boolean,
  ) {}

  onEvent(e: StageEvent): void {
    const out = (line: string) => this.io.stdout.write(line + '\n');
    switch (e.type) {
      case 'stage-start':
        out(`${stageTitle(e.stage)}  ${paint(this.color, '2', '…')}`);
        return;
      case 'stage-progress': {
        if (e.fraction !== undefined) {
          const tenth = Math.floor(e.fraction * 10);
          if (this.lastTenth.get(e.stage) === tenth) return;
          this.lastTenth.set(e.stage, tenth);
          const bar = '█'.repeat(tenth * 2).padEnd(20, '░');
          out(`${' '.repeat(4 + TITLE_WIDTH)}  ${paint(this.color, '2', `${bar} ${String(Math.round(e.fraction * 100)).padStart(3)}%  ${e.message}`)}`);
          return;
        }
        out(`${' '.repeat(4 + TITLE_WIDTH)}  ${paint(this.color, '2', `· ${e.message}`)}`);
        return;
      }
      case 'stage-end':
        out(`${stageTitle(e.stage)}  ${paint(this.color, '32', e.outcome === 'skipped' ? '–' : '✓')} ${e.summary}`);
        return;
      case 'stage-failed':
        out(`${stageTitle(e.stage)}  ${paint(this.color, '31', '✗')} ${e.error.code}: ${e.error.message}`);
        return;
    }
  }
}

interface StageRow {
  readonly n: number;
  readonly id: StageId;
  readonly title: string;
  readonly status: 'done' | 'skipped' | 'failed' | 'not-run';
  readonly summary: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

function stageRows(events: readonly StageEvent[]): StageRow[] {
  return STAGES.map((s) => {
    const end = events.find((e) => e.stage === s.id && (e.type === 'stage-end' || e.type === 'stage-failed'));
    if (end?.type === 'stage-end') return { n: s.n, id: s.id, title: s.title, status: end.outcome, summary: end.summary, error: null };
    if (end?.type === 'stage-failed') return { n: s.n, id: s.id, title: s.title, status: 'failed', summary: null, error: { code: end.error.code, message: end.error.message } };
    return { n: s.n, id: s.id, title: s.title, status: 'not-run', summary: null, error: null };
  });
}

async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  rl.once('SIGINT', reraiseInterrupt(rl));
  try {
    // End of input (Ctrl-D, a closed pipe) is a "no", never a hang.
    const answer = await new Promise<string>((resolve) => {
      rl.once('close', () => resolve(''));
      rl.question(question, resolve);
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
    // Leave stdin as found: a paused stream does not keep the process alive.
    process.stdin.pause();
  }
}

// ------------------------------------------------------------------------------ the command

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Sign a virtual phone in to an in-process lab pool through all nine stages, live (no phone needed)',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const a = parseDemoArgs(argv);
    const color = !a.json && tty(io);
    const say = (text: string) => {
      if (!a.json) io.stdout.write(text);
    };
    const interactive = !a.yes && process.stdin.isTTY === true;
    // Ctrl-C (or SIGTERM) from here on stops the run and everything the demo started.
    const stopped = io.untilStopped?.().then(() => {
      throw new TetherError('CANCELLED', 'The demo was stopped.');
    });
    stopped?.catch(() => undefined);
    if (a.state !== undefined) await refuseRunningLab(a.state);
    const starting = startDemoWorld({ model: a.model, faults: a.faults, ...(a.state === undefined ? {} : { stateDir: a.state }) });
    let world: DemoWorld;
    try {
      world = await (stopped ? Promise.race([starting, stopped]) : starting);
    } catch (err) {
      // Stopped while the lab was starting: let it finish starting, then stop it.
      await starting.then((w) => w.stop(), () => undefined);
      throw err;
    }
    const events: StageEvent[] = [];
    const pairings: { sas: string; phoneDisplay: string | null; decided: 'user' | 'auto'; confirmed: boolean }[] = [];
    let result: PhoneBootstrapResult | null = null;
    let failure: TetherError | null = null;
    try {
      const model = world.model;
      const user = world.lab.endpoints.users[0]!;
      const signIn = a.signIn ?? (model.pinAuth ? 'pin' : 'windows');
      const [ntlmDomain, ntlmUser] = user.ntlm.split('\\') as [string, string];
      const auth: PhoneAuth =
        signIn === 'pin'
          ? { kind: 'pin', phoneOrExt: user.phoneNumber, pin: Buffer.from(user.pin, 'utf8') }
          : { kind: 'ntlm', domain: ntlmDomain, username: ntlmUser, password: Buffer.from(user.password, 'utf8'), sipUri: user.sipUri };

      say(`${paint(color, '1', `Tether demo: a virtual ${model.name} signs in to the lab pool, with no phone attached.`)}\n\n`);
      say(`  lab     ${world.lab.context.domain}: DNS ${world.lab.dnsServer}, ${world.lab.context.httpsBase}${a.faults.length ? `, faults: ${a.faults.join(', ')}` : ''}\n`);
      say(`  phone   ${model.name} (virtual, USB high speed), serial ${world.serial}, firmware ${model.firmwareVersion}\n`);
      say(`  update  ${world.newVersion} (${Math.round(world.imageBytes / 1024)} KiB, generated) approved in Device Update\n`);
      say(`  user    ${user.sipUri}, ${signIn === 'pin' ? `PIN sign-in as ${user.phoneNumber}` : `Windows sign-in as ${user.ntlm}`} (lab demo data)\n\n`);

      const confirmPairing = async (req: PairingRequest): Promise<boolean> => {
        const phoneCode = req.phoneDisplay ?? '(the phone shows nothing)';
        say(req.reason === 'start' ? 'Pairing: compare the code on the phone with Tether\'s.\n' : 'The phone restarted into the new firmware and pairs again.\n');
        // With --json a person who is asked still sees both codes, on stderr.
        const pairingOut = a.json ? (interactive ? io.stderr : null) : io.stdout;
        if (pairingOut) {
          const box = displayBox(phoneCode, '').trimEnd().split('\n');
          const side = ['', paint(color, '1', formatSas(req.pairing.sas)), ''];
          const rows = box.map((l, i) => `  ${l}   ${side[i - Math.floor((box.length - 3) / 2)] ?? ''}`.trimEnd());
          pairingOut.write(`  phone's display${' '.repeat(Math.max(1, box[0]!.length - 12))}Tether\n${rows.join('\n')}\n`);
        }
        let confirmed: boolean;
        let decided: 'user' | 'auto';
        if (interactive) {
          decided = 'user';
          confirmed = await askYesNo('  Do the codes match? [y/N] ');
        } else {
          decided = 'auto';
          // The demo compares for the user, for its own virtual phone only (pairing-auto.ts).
          const auto = autoConfirmPairing(req);
          confirmed = auto.confirmed;
          const verdict = { match: 'Codes match: confirmed automatically', differ: 'Codes differ: refused automatically', 'not-virtual': 'Not a virtual phone: refused (only a person may compare a real phone\'s code)' };
          say(`  ${verdict[auto.reason]} (${a.yes ? '--yes' : 'stdin is not a terminal'}).\n`);
        }
        say('\n');
        pairings.push({ sas: req.pairing.sas, phoneDisplay: req.phoneDisplay, decided, confirmed });
        return confirmed;
      };

      const printer = a.json ? null : new LivePrinter(io, color);
      const running = runPhoneBootstrap(
        {
          phones: world.fleet.manager,
          serial: world.serial,
          confirmPairing,
          auth,
          resolver: world.resolver,
          rootFingerprints: [world.lab.ca.rootFingerprint],
          osRoots: [],
          httpPort: world.lab.httpPort,
          httpsPort: world.lab.httpsPort,
          imageCache: world.imageCache,
          connectTimeoutMs: 5000,
          reattachTimeoutMs: 30_000,
          registrationTimeoutMs: 20_000,
        },
        (e) => {
          events.push(e);
          printer?.onEvent(e);
        },
      );
      try {
        result = await (stopped ? Promise.race([running, stopped]) : running);
      } catch (err) {
        failure = toTetherError(err);
      }
      running.catch(() => undefined);

      // The phone may be between boots (no state to read) when a run is stopped.
      const poweredPhone = () => {
        try {
          return world.device.host?.phone ?? null;
        } catch {
          return null;
        }
      };
      const display = result?.display ?? poweredPhone()?.displayText ?? '(the phone is restarting)';
      const registration = result?.registration ?? poweredPhone()?.status().registration ?? null;
      if (a.json) {
        io.stdout.write(
          JSON.stringify({
            ok: failure === null,
            model: model.id,
            serial: world.serial,
            lab: { domain: world.lab.context.domain, dns: world.lab.dnsServer, faults: a.faults },
            pairing: pairings,
            stages: stageRows(events),
            firmware: result?.update ?? null,
            registration,
            display,
            error: failure ? errorReport(failure) : null,
          }) + '\n',
        );
      } else {
        io.stdout.write('\n');
        if (failure === null && result) {
          io.stdout.write(`${paint(color, '32;1', '✓ Signed in:')} ${result.registration.sipUri} at ${result.registration.registrar}. The phone's display:\n`);
        } else if (failure) {
          const where = failure.stage === null ? '' : ` at stage ${stageNumber(failure.stage)} (${STAGES.find((s) => s.id === failure!.stage)!.title})`;
          io.stdout.write(`${paint(color, '31;1', '✗ Not signed in')}${where}: ${failure.code}\n  ${failure.message}\n  fix: ${failure.fix}\n`);
          if (failure.cmdlet) io.stdout.write(`  check: ${failure.cmdlet}\n`);
          io.stdout.write(`\nThe phone's display:\n`);
        }
        io.stdout.write(displayBox(display));
      }
      return failure === null ? EXIT.ok : EXIT.failure;
    } finally {
      await world.stop();
    }
  },
};
