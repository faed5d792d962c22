import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVirtualPhone, FolderPhoneStore, linkModel, type LinkSpeed } from '../../native/virtual';
import { ManualSource } from '../../native/usb/source';
import { streamImage, type FirmwareImage } from '../device/firmware-image';
import { pushFirmware } from '../device/firmware-push';
import { DeviceManager } from '../device/manager';
import { measureCodecCpu } from './codec-cpu';
import { journalBench } from './journal';
import type { BenchFigure } from './report';
import { patternChunk, repeatedSha256, timeStopAndWait } from './throughput';

const MiB = 1 << 20;
const MB = 1e6;

export const BENCH_NAMES = ['cpu', 'high', 'full', 'journal', 'rss', 'signins'] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

export interface BenchOptions {
  /** Small sizes for a smoke test: checks that everything runs and prints, not the figures. */
  readonly quick?: boolean;
  /** Run only these (default all). */
  readonly only?: readonly BenchName[];
  readonly onFigure: (f: BenchFigure) => void;
  /** Progress notes for a person (stderr). */
  readonly onNote?: (text: string) => void;
}

interface Sizes {
  readonly push: Record<LinkSpeed, number>;
  readonly stopAndWait: Record<LinkSpeed, number>;
  readonly cpu: number;
  readonly rss: number;
}

const FULL: Sizes = { push: { high: 64 * MiB, full: 64 * MiB }, stopAndWait: { high: 64 * MiB, full: 8 * MiB }, cpu: 64 * MiB, rss: 256 * MiB };
const QUICK: Sizes = { push: { high: 4 * MiB, full: 256 * 1024 }, stopAndWait: { high: MiB, full: 128 * 1024 }, cpu: 4 * MiB, rss: 8 * MiB };

/** The image the bench pushes: a pattern streamed by offset, never held whole. */
function patternImage(size: number, version: string): FirmwareImage {
  const chunk = patternChunk();
  return streamImage({ size, version, sha256: repeatedSha256(chunk, size) }, async function* (offset) {
    for (let at = offset; at < size; ) {
      const start = at % chunk.byteLength;
      const n = Math.min(chunk.byteLength - start, size - at);
      yield chunk.subarray(start, start + n);
      at += n;
    }
  });
}

/** One virtual phone on the real clock (the link is paced as the USB 2.0 model says) in a fleet. */
async function benchPhone(speed: LinkSpeed, store?: FolderPhoneStore) {
  const bus = new ManualSource('virtual');
  const device = await createVirtualPhone({ model: 'CX600', serial: `CX600-BENCH${speed.toUpperCase()}`, speed, bus, store, maxImageBytes: 1 << 30 });
  const manager = new DeviceManager({ sources: [bus] });
  await manager.start();
  const phone = await manager.waitForSerial(device.serialNumber!, { timeoutMs: 10_000 });
  return {
    device,
    manager,
    phone,
    async close() {
      await manager.stop();
      await device.host?.powerOff('bench done');
    },
  };
}

/**
 * Pushes an image with the real firmware pusher and times its sending phase (first byte to the
 * phone's acknowledgement of the last), next to a stop-and-wait baseline on the same link.
 */
async function pushBench(speed: LinkSpeed, sizes: Sizes, o: BenchOptions): Promise<void> {
  const bench = `firmware-push-${speed}`;
  const capacity = linkModel(speed).capacityBytesPerSecond;
  const rig = await benchPhone(speed);
  try {
    o.onNote?.(`${bench}: pushing ${sizes.push[speed] / MiB} MiB at ${(capacity / MB).toFixed(3)} MB/s …`);
    let t0 = 0;
    let t1 = 0;
    const size = sizes.push[speed];
    await pushFirmware({
      phones: rig.manager,
      serial: rig.phone.identity.serial,
      image: patternImage(size, `4.0.9999.${speed === 'high' ? 1 : 2}`),
      onProgress: (p) => {
        if (p.phase === 'sending' && t0 === 0) t0 = performance.now();
        if (p.phase === 'verifying') t1 = performance.now();
      },
    });
    const windowed = size / ((t1 - t0) / 1000);
    o.onNote?.(`${bench}: stop-and-wait baseline, ${sizes.stopAndWait[speed] / MiB} MiB …`);
    const phone = await rig.manager.waitForSerial(rig.phone.identity.serial, { timeoutMs: 10_000 });
    const saw = await timeStopAndWait(phone, sizes.stopAndWait[speed], `4.0.9998.${speed === 'high' ? 1 : 2}`);
    o.onFigure({ bench, metric: 'link-capacity', value: capacity / MB, unit: 'MB/s', goal: null });
    o.onFigure({ bench, metric: 'throughput', value: windowed / MB, unit: 'MB/s', goal: null });
    o.onFigure({ bench, metric: 'fraction-of-capacity', value: windowed / capacity, unit: 'ratio', goal: '>= 0.95' });
    o.onFigure({ bench, metric: 'stop-and-wait-fraction-of-capacity', value: saw.bytesPerSecond / capacity, unit: 'ratio', goal: null });
    o.onFigure({ bench, metric: 'speedup-over-stop-and-wait', value: windowed / saw.bytesPerSecond, unit: 'x', goal: null });
  } finally {
    await rig.close();
  }
}

/** RSS growth while the real pusher streams a large image (the phone's flash is a folder on disk). */
async function rssBench(sizes: Sizes, o: BenchOptions): Promise<void> {
  const bench = 'firmware-push-rss';
  const dir = await mkdtemp(join(tmpdir(), 'tether-bench-'));
  const rig = await benchPhone('high', new FolderPhoneStore(dir));
  try {
    o.onNote?.(`${bench}: pushing ${sizes.rss / MiB} MiB, sampling RSS …`);
    const image = patternImage(sizes.rss, '4.0.9999.3');
    const base = process.memoryUsage().rss;
    let peak = base;
    let sampling = true;
    const sample = (): void => {
      if (sampling) peak = Math.max(peak, process.memoryUsage().rss);
    };
    const timer = setInterval(sample, 10);
    try {
      await pushFirmware({
        phones: rig.manager,
        serial: rig.phone.identity.serial,
        image,
        onProgress: (p) => {
          sample();
          // The (virtual) phone then reads its flash back to hash it: its memory, not the host's.
          if (p.phase === 'verifying') sampling = false;
        },
      });
    } finally {
      clearInterval(timer);
    }
    o.onFigure({ bench, metric: 'image-size', value: sizes.rss / MiB, unit: 'MiB', goal: null });
    o.onFigure({ bench, metric: 'rss-growth-while-streaming', value: (peak - base) / MiB, unit: 'MiB', goal: '<= 64' });
  } finally {
    await rig.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function cpuBench(sizes: Sizes, o: BenchOptions): Promise<void> {
  const bench = 'codec-cpu';
  o.onNote?.(`${bench}: framing + CRC-32C + AES-256-GCM over ${sizes.cpu / MiB} MiB in-process …`);
  const r = await measureCodecCpu(sizes.cpu);
  const cpuBytesPerSecond = r.cpuMiBPerSecond * MiB;
  const high = linkModel('high').capacityBytesPerSecond;
  o.onFigure({ bench, metric: 'cpu-ms-per-mb', value: (r.cpuMsPerMiB * MB) / MiB, unit: 'ms/MB', goal: null });
  o.onFigure({ bench, metric: 'cpu-throughput', value: cpuBytesPerSecond / MB, unit: 'MB/s', goal: null });
  o.onFigure({ bench, metric: 'ratio-to-high-speed-link', value: cpuBytesPerSecond / high, unit: 'x', goal: '>= 4' });
}

/** Runs the benchmarks in this process; figures are ratios measured in this run. */
export async function runBench(o: BenchOptions): Promise<void> {
  const sizes = o.quick ? QUICK : FULL;
  const want = (n: BenchName): boolean => !o.only || o.only.includes(n);
  if (want('cpu')) await cpuBench(sizes, o);
  if (want('high')) await pushBench('high', sizes, o);
  if (want('full')) await pushBench('full', sizes, o);
  if (want('journal')) await journalBench(o.quick === true, o.onFigure, o.onNote);
  if (want('rss')) await rssBench(sizes, o);
}
