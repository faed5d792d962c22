import { humanLine, jsonLine, type BenchFigure } from '../../bench/report';
import { runBench } from '../../bench/run';
import { EXIT, usageError, type CliIO, type Command } from '../io';

const USAGE = `Usage: tether bench [--json] [--quick]

Measures the USB tether path over the virtual phone's USB 2.0 link model:
  firmware-push-high/full  a 64 MiB image pushed with the firmware pusher, as a fraction of the
                           link's capacity (goal >= 0.95), next to a stop-and-wait baseline
                           (one chunk, wait for the phone's acknowledgement, next chunk)
  codec-cpu                CPU per MB of framing + CRC-32C + AES-256-GCM (both ends, in-process)
                           and its ratio to the high-speed link rate (goal >= 4)
  firmware-push-rss        RSS growth while a 256 MiB image streams (goal <= 64 MiB)
Every figure is measured in this run. Full speed (1.216 MB/s) takes about a minute.

  --json   one JSON line per figure: {"bench","metric","value","unit","goal"}
  --quick  small sizes (a smoke test: the figures mean little)
`;

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Measure firmware push throughput, codec CPU cost and memory (virtual link)',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    let json = false;
    let quick = false;
    for (const a of args) {
      if (a === '--json') json = true;
      else if (a === '--quick') quick = true;
      else throw usageError(`Unknown option '${a}'.\n\n${USAGE}`);
    }
    const figures: BenchFigure[] = [];
    await runBench({
      quick,
      onFigure: (f) => {
        figures.push(f);
        io.stdout.write(json ? jsonLine(f) : humanLine(f));
      },
      onNote: json ? undefined : (text) => io.stderr.write(text + '\n'),
    });
    return EXIT.ok;
  },
};
