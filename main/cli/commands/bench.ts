import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TetherError } from '../../../common/errors';
import { humanLine, jsonLine, type BenchFigure } from '../../bench/report';
import { measureColdStart } from '../../bench/cold-start';
import { BENCH_NAMES, runBench, type BenchName } from '../../bench/run';
import { measureWindow } from '../../bench/window';
import { flag, parseArgs } from '../args';
import { runSignInBench } from '../bench-signins';
import { startDemoService } from '../demo-service';
import { EXIT, usageError, type CliIO, type Command } from '../io';

const WINDOW_BENCHES = ['cold', 'window'] as const;
type AnyBench = BenchName | (typeof WINDOW_BENCHES)[number];
const ALL_NAMES: readonly AnyBench[] = [...BENCH_NAMES, ...WINDOW_BENCHES];

const USAGE = `Usage: tether bench [--json] [--quick] [--only cpu|high|high-loaded|full|journal|rss|pacing|decode|xml|signins|cold|window[,…]]

Measures the USB tether path over the virtual phone's USB 2.0 link model:
  high, full  firmware-push-high/full: a 64 MiB image pushed with the firmware pusher, as a
              fraction of the link's capacity (goal >= 0.95), next to a stop-and-wait baseline
              (one max-size chunk, wait for the phone's acknowledgement, next chunk), and the
              CPU per MB it cost (Tether and the virtual phone together)
  high-loaded firmware-push-high-loaded: the same push with a busy-loop process competing on
              every core (goal >= 0.95 of capacity there too)
  cpu         codec-cpu: CPU per MB of framing + header CRC-32C + AES-256-GCM (both ends,
              in-process) and its ratio to the high-speed link rate (goal >= 10)
  journal     journal: the journal writes of one sign-in (count, ms per sign-in, per-write
              p50/p99/max) with synchronous=NORMAL as Tether runs it, and FULL beside it
  rss         firmware-push-rss: RSS growth while a 256 MiB image streams (goal <= 64 MiB);
              run in a fresh process so the other benchmarks' heap cannot hide growth
  pacing      link-pacing-real-clock: stop-and-wait transfers on the real clock, elapsed over
              the bus time the link model charges, and the timer lateness per transfer (<= 1 ms)
  decode      frame-decode: tether frames decoded per second (half corrupt); sip-trickle: a
              maximal SIP message fed one byte at a time, and the time ratio to one 8x smaller
              (linear ~8, quadratic ~64; goal <= 22.6)
  xml         xml-parse-soap-1mb, xml-parse-many-elements: parseXml (saxes) and the hand-written
              parser it replaced on the same document, and their ratio (docs/xml.md)
  signins     32 virtual phones sign in at once (the lab in a child process): all signed in,
              per-phone wall p50/p95, event-loop delay p99 (goal <= 20 ms), Tether's CPU per
              sign-in (the process's, minus the phones' RSA key generation; goal <= 50 ms), pool
              HTTP requests and TLS handshakes per sign-in, journal writes per sign-in and their
              time, peak RSS; in a fresh process
  cold        cli-cold-start: median wall time of \`tether help\` in a fresh process (built CLI;
              goal <= 300 ms), next to a bare \`node -e 0\`
  window      the window in Debian's Chromium (/usr/bin/chromium; skipped without it) against the
              loopback host and the demo: first contentful paint (goal <= 1500 ms); during a 64 MiB
              firmware push, input-to-paint delay p99 (goal <= 100 ms) and the messages per second
              reaching the page (goal <= 20)
Every figure is measured in this run. Full speed (1.216 MB/s) takes about a minute.

  --json   one JSON line per figure: {"bench","metric","value","unit","goal"}
  --quick  small sizes (a smoke test: the figures mean little)
  --only   run only these benchmarks
`;

const FLAGS = {
  json: flag.boolean(),
  quick: flag.boolean(),
  only: flag.list((n): AnyBench => {
    if (!(ALL_NAMES as readonly string[]).includes(n)) throw usageError(`--only takes ${ALL_NAMES.join(', ')}.\n\n${USAGE}`);
    return n as AnyBench;
  }),
};

const BIN = fileURLToPath(new URL('../../../bin/tether.mjs', import.meta.url));
const RENDERER_DIR = fileURLToPath(new URL('../../../dist/renderer', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

async function windowFigures(quick: boolean, onFigure: (f: BenchFigure) => void, onNote?: (text: string) => void): Promise<void> {
  const chromium = process.env.TETHER_CHROMIUM ?? CHROMIUM;
  if (!existsSync(chromium)) {
    onNote?.(`window: skipped, no Chromium at ${chromium} (apt-get install chromium).`);
    return;
  }
  const { build } = (await import(new URL('../../../scripts/build.mjs', import.meta.url).href)) as { build(o: object): Promise<string[]> };
  await build({ targets: ['renderer'], ifStale: true, quiet: true });
  const imageBytes = (quick ? 8 : 64) << 20;
  onNote?.(`window: Chromium against the loopback host, ${imageBytes >> 20} MiB firmware push …`);
  const r = await measureWindow({
    rendererDir: RENDERER_DIR,
    chromiumPath: chromium,
    imageBytes,
    ...(onNote ? { onNote } : {}),
    startWorld: async (bytes) => {
      const demo = await startDemoService({ models: ['CX600'], updateModels: ['CX600'], imageBytes: bytes, autoConfirmPairing: false });
      const user = demo.users[0]!;
      return { service: demo.service, serial: demo.serials[0]!, extension: user.extension, pin: user.pin, stop: () => demo.stop() };
    },
  });
  const bench = 'window';
  onFigure({ bench, metric: 'first-contentful-paint', value: r.firstPaintMs, unit: 'ms', goal: '<= 1500' });
  onFigure({ bench, metric: 'push-input-to-paint-p99', value: r.inputP99Ms, unit: 'ms', goal: '<= 100' });
  onFigure({ bench, metric: 'push-input-to-paint-median', value: r.inputMedianMs, unit: 'ms', goal: null });
  onFigure({ bench, metric: 'push-inputs-measured', value: r.inputs, unit: 'inputs', goal: null });
  onFigure({ bench, metric: 'push-messages-to-page', value: r.framesPerSecond, unit: 'per s', goal: '<= 20' });
  onFigure({ bench, metric: 'push-service-progress', value: r.serviceProgressPerSecond, unit: 'per s', goal: null });
  onFigure({ bench, metric: 'push-duration', value: r.pushSeconds, unit: 's', goal: null });
}

/** Runs `tether bench --only NAME --json` in a child process and passes its figures on. */
function inChild(name: 'rss' | 'signins', quick: boolean, onFigure: (f: BenchFigure) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'bench', '--only', name, '--json', ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new TetherError('INTERNAL', `The ${name} benchmark failed (exit ${code}): ${err.trim().slice(-400)}`));
        return;
      }
      for (const line of out.split('\n').filter((l) => l.trim().startsWith('{'))) onFigure(JSON.parse(line) as BenchFigure);
      resolve();
    });
  });
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Measure firmware push throughput, codec CPU cost and memory (virtual link)',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const { json, quick, only: named } = parseArgs(args, FLAGS, { usage: USAGE }).flags;
    const only = named.length > 0 ? named : undefined;
    const onFigure = (f: BenchFigure): void => {
      io.stdout.write(json ? jsonLine(f) : humanLine(f));
    };
    const onNote = json ? undefined : (text: string): void => void io.stderr.write(text + '\n');
    const wanted = (n: AnyBench) => only === undefined || only.includes(n);
    if (wanted('cold')) {
      const r = measureColdStart(BIN);
      onFigure({ bench: 'cli-cold-start', metric: 'tether-help', value: r.cliMs, unit: 'ms', goal: '<= 300' });
      onFigure({ bench: 'cli-cold-start', metric: 'bare-node', value: r.nodeMs, unit: 'ms', goal: null });
    }
    const inProcess = (only ?? BENCH_NAMES).filter((n): n is BenchName => (BENCH_NAMES as readonly string[]).includes(n) && n !== 'signins' && (only !== undefined || n !== 'rss'));
    if (inProcess.length > 0) await runBench({ quick, only: inProcess, onFigure, onNote });
    if (only === undefined) {
      onNote?.('firmware-push-rss: in a fresh process …');
      await inChild('rss', quick, onFigure);
      onNote?.('signins: in a fresh process …');
      await inChild('signins', quick, onFigure);
    } else if (only.includes('signins')) {
      await runSignInBench(quick ? 8 : 32, onFigure, onNote);
    }
    if (wanted('window')) await windowFigures(quick, onFigure, onNote);
    return EXIT.ok;
  },
};
