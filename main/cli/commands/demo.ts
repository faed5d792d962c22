import { FAULT_NAMES, type FaultName } from '../../../lab';
import { findModel } from '../../../native/usb/catalogue';
import { flag, parseArgs } from '../args';
import { startDemoService } from '../demo-service';
import { EXIT, usageError, type CliIO, type Command } from '../io';
import { explainFailures } from '../job-view';
import { refuseRunningLab } from '../lab-endpoints';
import { virtualSpecs } from '../virtual-lab';
import { driveJobs } from './provision';

const DEFAULT_MODELS = ['CX600', 'HP4120', 'CX3000'];

const USAGE = `Usage: tether demo [--model ID]… [--fault NAME]… [--sign-in pin|windows] [--state DIR] [--json]

Shows what Tether is for, with no phone attached: it starts the lab pool in this process, puts a
newer firmware image for the first model into the pool's Device Update service, plugs in virtual
phones on the lab's network, and signs them all in at once through the nine stages, live: pairing
(Tether compares its code with each virtual phone's display), the firmware push over USB, the
pool's CA chain, the PIN or Windows sign-in, each phone's own key and certificate, its
registration. Everything is stopped when it ends; nothing is written outside a temporary folder.

  --model ID            a phone to plug in (repeatable; default ${DEFAULT_MODELS.join(', ')}):
                        CX600, CX700, CX3000, HP4120, AASTRA6725IP
  --fault NAME          switch a lab fault on, to see a failure and its plain-language fix
                        (repeatable): ${FAULT_NAMES.join(', ')}
  --sign-in pin|windows PIN or Windows credentials (default: PIN where the model has PIN sign-in;
                        the CX700 has none, so it uses Windows credentials)
  --state DIR           keep the lab's state in DIR (default: a temporary folder, removed;
                        refused while a tether lab runs on DIR)
  --json                one JSON object per line: stage events, then a result per phone

Exit status: 0 every phone signed in, 1 a stage failed (its typed error and fix are shown),
2 a usage error.
`;

const SIGN_IN = ['pin', 'windows'] as const;

function faultName(text: string): FaultName {
  if (!(FAULT_NAMES as readonly string[]).includes(text)) throw usageError(`Unknown fault '${text.slice(0, 40)}'; known: ${FAULT_NAMES.join(', ')}.`);
  return text as FaultName;
}

function modelId(text: string): string {
  const model = findModel(text.toUpperCase());
  if (!model) throw usageError(`Unknown phone model '${text.slice(0, 40)}'; known: CX600, CX700, CX3000, HP4120, AASTRA6725IP.`);
  return model.id;
}

const FLAGS = {
  model: flag.repeatable(modelId),
  fault: flag.repeatable(faultName),
  'sign-in': flag.value((t, f) => {
    if (!(SIGN_IN as readonly string[]).includes(t)) throw usageError(`${f} is pin or windows, not '${t.slice(0, 20)}'.`);
    return t as (typeof SIGN_IN)[number];
  }),
  state: flag.string(),
  json: flag.boolean(),
};

export interface DemoArgs {
  models: string[];
  faults: FaultName[];
  signIn: 'pin' | 'windows' | null;
  state?: string;
  json: boolean;
}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const f = parseArgs(argv, FLAGS, { usage: USAGE, unknownNoun: 'argument' }).flags;
  return {
    models: f.model.length > 0 ? f.model : DEFAULT_MODELS,
    // A fault named twice is switched on once.
    faults: [...new Set(f.fault)],
    signIn: f['sign-in'] ?? null,
    ...(f.state === undefined ? {} : { state: f.state }),
    json: f.json,
  };
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Sign three virtual phones in at once to an in-process lab pool, live (no phone needed)',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const a = parseDemoArgs(argv);
    if (a.state !== undefined) await refuseRunningLab(a.state);
    const phones = virtualSpecs(a.models);
    const demo = await startDemoService({ phones, updateModels: [a.models[0]!], labFaults: a.faults, ...(a.state === undefined ? {} : { labDir: a.state }) });
    try {
      const user = demo.users[0]!;
      const say = (text: string) => !a.json && io.stdout.write(text);
      say(`Tether demo: ${phones.length} virtual phones sign in at once to the lab pool ${demo.lab.context.domain}, with no phone attached.\n`);
      say(`  update  newer firmware for the ${a.models[0]} is approved in Device Update\n`);
      say(`  user    ${user.sipUri} (lab demo data); pairing codes are compared with each phone's display\n`);
      if (a.faults.length > 0) say(`  faults  ${a.faults.join(', ')}\n`);
      say('\n');
      const finals = await driveJobs(
        demo.service,
        io,
        a.json,
        async () => {
          const ids: string[] = [];
          for (const p of phones) {
            const pin = a.signIn === 'pin' || (a.signIn === null && findModel(p.model)!.pinAuth);
            const spec = pin ? { serial: p.serial!, kind: 'pin' as const, user: user.phoneNumber } : { serial: p.serial!, kind: 'ntlm' as const, user: user.ntlm, sipUri: user.sipUri };
            ids.push((await demo.service.startSignIn(spec)).jobId);
          }
          return ids;
        },
        // Lab demo data: the lab's published PIN and password for its first user.
        async (kind) => (kind === 'pin' ? user.pin : user.password),
      );
      if (!a.json) explainFailures(finals, io);
      return finals.length === phones.length && finals.every((j) => j.state === 'signed-in') ? EXIT.ok : EXIT.failure;
    } finally {
      await demo.stop();
    }
  },
};
