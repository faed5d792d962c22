import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TetherError } from '../../../common/errors';
import { humanLine, jsonLine, type BenchFigure } from '../../bench/report';
import { BENCH_NAMES, runBench, type BenchName } from '../../bench/run';
import { flag, parseArgs } from '../args';
import { runSignInBench } from '../bench-signins';
import { EXIT, usageError, type CliIO, type Command } from '../io';

const USAGE = `Usage: tether bench [--json] [--quick] [--only cpu|high|high-loaded|full|journal|rss|pacing|decode|xml|signins[,…]]

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
Every figure is measured in this run. Full speed (1.216 MB/s) takes about a minute.

  --json   one JSON line per figure: {"bench","metric","value","unit","goal"}
  --quick  small sizes (a smoke test: the figures mean little)
  --only   run only these benchmarks
`;

const FLAGS = {
  json: flag.boolean(),
  quick: flag.boolean(),
  only: flag.list((n): BenchName => {
    if (!(BENCH_NAMES as readonly string[]).includes(n)) throw usageError(`--only takes ${BENCH_NAMES.join(', ')}.\n\n${USAGE}`);
    return n as BenchName;
  }),
};

const BIN = fileURLToPath(new URL('../../../bin/tether.mjs', import.meta.url));

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
    const inProcess = (only ?? BENCH_NAMES).filter((n) => n !== 'signins' && (only !== undefined || n !== 'rss'));
    await runBench({ quick, only: inProcess, onFigure, onNote });
    if (only === undefined) {
      onNote?.('firmware-push-rss: in a fresh process …');
      await inChild('rss', quick, onFigure);
      onNote?.('signins: in a fresh process …');
      await inChild('signins', quick, onFigure);
    } else if (only.includes('signins')) {
      await runSignInBench(quick ? 8 : 32, onFigure, onNote);
    }
    return EXIT.ok;
  },
};
