import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVirtualPhone, FolderPhoneStore, linkModel, type LinkSpeed } from '../../native/virtual';
import { ManualSource } from '../../native/usb/source';
import { streamImage, type FirmwareImage } from '../device/firmware-image';
import { pushFirmware } from '../device/firmware-push';
import { DeviceManager } from '../device/manager';
import { measureCodecCpu } from './codec-cpu';
import { measureFrameDecode, measureSipTrickle } from './decode';
import { measurePacing } from './pacing';
import { compareXmlParsers, manyElements, soapAnswer } from './xml';
import { journalBench } from './journal';
import { underCpuLoad } from './load';
import type { BenchFigure } from './report';
import { patternChunk, repeatedSha256, timeStopAndWait } from './throughput';

const MiB = 1 << 20;
const MB = 1e6;

export const BENCH_NAMES = ['cpu', 'high', 'high-loaded', 'full', 'journal', 'rss', 'pacing', 'decode', 'xml', 'signins'] as const;
/** The competing load stops by itself after this, whatever happens to the bench (a guard, far above a push). */
const LOAD_GUARD_MS = 180_000;
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
  /** Stop-and-wait transfers on the real clock. */
  readonly pacing: number;
  /** Frames decoded. */
  readonly frames: number;
}

const FULL: Sizes = { push: { high: 64 * MiB, full: 64 * MiB }, stopAndWait: { high: 64 * MiB, full: 8 * MiB }, cpu: 256 * MiB, rss: 256 * MiB, pacing: 2000, frames: 1_000_000 };
const QUICK: Sizes = { push: { high: 4 * MiB, full: 256 * 1024 }, stopAndWait: { high: MiB, full: 128 * 1024 }, cpu: 4 * MiB, rss: 8 * MiB, pacing: 50, frames: 10_000 };

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

interface PushTiming {
  /** Bytes per second of the sending phase (first byte to the phone's acknowledgement of the last). */
  readonly bytesPerSecond: number;
  /** This process's CPU (user + system) per MB over the same phase: Tether and the virtual phone together. */
  readonly cpuMsPerMB: number;
}

/** Pushes an image with the real firmware pusher and times its sending phase. */
async function timePush(rig: Awaited<ReturnType<typeof benchPhone>>, size: number, version: string): Promise<PushTiming> {
  let t0 = 0;
  let t1 = 0;
  let cpu0: NodeJS.CpuUsage | null = null;
  let cpu: NodeJS.CpuUsage | null = null;
  await pushFirmware({
    phones: rig.manager,
    serial: rig.phone.identity.serial,
    image: patternImage(size, version),
    onProgress: (p) => {
      if (p.phase === 'sending' && t0 === 0) {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
      }
      if (p.phase === 'verifying') {
        t1 = performance.now();
        cpu = process.cpuUsage(cpu0 ?? undefined);
      }
    },
  });
  const used = cpu as NodeJS.CpuUsage | null;
  return { bytesPerSecond: size / ((t1 - t0) / 1000), cpuMsPerMB: used === null ? Number.NaN : (used.user + used.system) / 1000 / (size / MB) };
}

/** The share of one core the push would need to run at the link's full rate (both ends of the link are in this process). */
function coreShareAtLinkRate(t: PushTiming, capacity: number): number {
  return (t.cpuMsPerMB * (capacity / MB)) / 1000;
}

/**
 * The high-speed push with a competing CPU-bound process on every core (§7 of issue 6: a desktop
 * is never idle). The load runs for the push only, not for the phone's attach.
 */
async function loadedPushBench(sizes: Sizes, o: BenchOptions): Promise<void> {
  const bench = 'firmware-push-high-loaded';
  const capacity = linkModel('high').capacityBytesPerSecond;
  const rig = await benchPhone('high');
  try {
    const { timing, processes } = await underCpuLoad(LOAD_GUARD_MS, async (load) => {
      o.onNote?.(`${bench}: pushing ${sizes.push.high / MiB} MiB with ${load.processes} busy-loop process(es) competing …`);
      return { timing: await timePush(rig, sizes.push.high, '4.0.9999.4'), processes: load.processes };
    });
    o.onFigure({ bench, metric: 'competing-busy-processes', value: processes, unit: 'processes', goal: null });
    o.onFigure({ bench, metric: 'throughput', value: timing.bytesPerSecond / MB, unit: 'MB/s', goal: null });
    o.onFigure({ bench, metric: 'fraction-of-capacity', value: timing.bytesPerSecond / capacity, unit: 'ratio', goal: '>= 0.95' });
    o.onFigure({ bench, metric: 'cpu-ms-per-mb', value: timing.cpuMsPerMB, unit: 'ms/MB', goal: null });
  } finally {
    await rig.close();
  }
}

/**
 * Pushes an image with the real firmware pusher and times its sending phase, next to a
 * stop-and-wait baseline on the same link.
 */
async function pushBench(speed: LinkSpeed, sizes: Sizes, o: BenchOptions): Promise<void> {
  const bench = `firmware-push-${speed}`;
  const capacity = linkModel(speed).capacityBytesPerSecond;
  const rig = await benchPhone(speed);
  try {
    o.onNote?.(`${bench}: pushing ${sizes.push[speed] / MiB} MiB at ${(capacity / MB).toFixed(3)} MB/s …`);
    const timing = await timePush(rig, sizes.push[speed], `4.0.9999.${speed === 'high' ? 1 : 2}`);
    const windowed = timing.bytesPerSecond;
    o.onNote?.(`${bench}: stop-and-wait baseline, ${sizes.stopAndWait[speed] / MiB} MiB …`);
    const phone = await rig.manager.waitForSerial(rig.phone.identity.serial, { timeoutMs: 10_000 });
    const saw = await timeStopAndWait(phone, sizes.stopAndWait[speed], `4.0.9998.${speed === 'high' ? 1 : 2}`);
    o.onFigure({ bench, metric: 'link-capacity', value: capacity / MB, unit: 'MB/s', goal: null });
    o.onFigure({ bench, metric: 'throughput', value: windowed / MB, unit: 'MB/s', goal: null });
    o.onFigure({ bench, metric: 'fraction-of-capacity', value: windowed / capacity, unit: 'ratio', goal: '>= 0.95' });
    o.onFigure({ bench, metric: 'cpu-ms-per-mb', value: timing.cpuMsPerMB, unit: 'ms/MB', goal: null });
    o.onFigure({ bench, metric: 'core-share-at-link-rate', value: coreShareAtLinkRate(timing, capacity), unit: 'cores', goal: null });
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
  o.onNote?.(`${bench}: framing + header CRC-32C + AES-256-GCM over ${sizes.cpu / MiB} MiB in-process …`);
  const r = await measureCodecCpu(sizes.cpu);
  const cpuBytesPerSecond = r.cpuMiBPerSecond * MiB;
  const high = linkModel('high').capacityBytesPerSecond;
  o.onFigure({ bench, metric: 'cpu-ms-per-mb', value: (r.cpuMsPerMiB * MB) / MiB, unit: 'ms/MB', goal: null });
  o.onFigure({ bench, metric: 'cpu-throughput', value: cpuBytesPerSecond / MB, unit: 'MB/s', goal: null });
  o.onFigure({ bench, metric: 'ratio-to-high-speed-link', value: cpuBytesPerSecond / high, unit: 'x', goal: '>= 10' });
}

async function pacingBench(sizes: Sizes, o: BenchOptions): Promise<void> {
  const bench = 'link-pacing-real-clock';
  o.onNote?.(`${bench}: ${sizes.pacing} stop-and-wait transfers of 16 000 bytes at high speed …`);
  const r = await measurePacing(sizes.pacing);
  o.onFigure({ bench, metric: 'elapsed-over-bus-time', value: r.elapsedMs / r.busMs, unit: 'ratio', goal: null });
  // What a late timer per transfer would cost at the least is 1 ms (Node's timer resolution).
  o.onFigure({ bench, metric: 'lateness-per-transfer', value: (r.elapsedMs - r.busMs) / r.transfers, unit: 'ms', goal: '<= 1' });
}

function decodeBench(sizes: Sizes, o: BenchOptions): void {
  o.onNote?.(`frame-decode: ${sizes.frames} frames, half of them corrupt …`);
  const f = measureFrameDecode(sizes.frames);
  o.onFigure({ bench: 'frame-decode', metric: 'frames-per-second', value: f.frames / f.seconds, unit: 'frames/s', goal: null });
  o.onFigure({ bench: 'frame-decode', metric: 'throughput', value: f.bytes / f.seconds / MB, unit: 'MB/s', goal: null });
  // A maximal SIP message (16 KiB head, 64 KiB body) trickled a byte at a time, and one an eighth
  // of its size, best of six runs each (the first runs are the JIT's): linear decoding takes about
  // 8 times as long for the large one, quadratic 64.
  const scale = o.quick ? 4 : 1;
  const bestOf = (body: number, head: number) => {
    let best = measureSipTrickle(body, head);
    for (let i = 0; i < 5; i++) {
      const r = measureSipTrickle(body, head);
      if (r.seconds < best.seconds) best = r;
    }
    return best;
  };
  const small = bestOf(8192 / scale, 2048 / scale);
  const large = bestOf(65536 / scale, 16384 / scale);
  o.onFigure({ bench: 'sip-trickle', metric: 'bytes-per-second', value: large.bytes / large.seconds, unit: 'B/s', goal: null });
  o.onFigure({ bench: 'sip-trickle', metric: 'time-ratio-8x-size', value: large.seconds / small.seconds, unit: 'x', goal: '<= 22.6' });
}

/** parseXml (saxes) against the hand-written parser it replaced, on the same documents (docs/xml.md). */
function xmlBench(o: BenchOptions): void {
  const runs = o.quick ? 2 : 10;
  for (const [bench, doc] of [
    ['xml-parse-soap-1mb', soapAnswer(o.quick ? 100_000 : 1_000_000)],
    ['xml-parse-many-elements', manyElements(o.quick ? 2_000 : 20_000)],
  ] as const) {
    o.onNote?.(`${bench}: parseXml (saxes) and the former hand-written parser, best of ${runs} …`);
    const r = compareXmlParsers(doc, runs);
    o.onFigure({ bench, metric: 'saxes-ms', value: r.saxesMs, unit: 'ms', goal: null });
    o.onFigure({ bench, metric: 'handwritten-ms', value: r.handwrittenMs, unit: 'ms', goal: null });
    o.onFigure({ bench, metric: 'saxes-over-handwritten', value: r.saxesMs / r.handwrittenMs, unit: 'ratio', goal: null });
  }
}

/** Runs the benchmarks in this process; figures are ratios measured in this run. */
export async function runBench(o: BenchOptions): Promise<void> {
  const sizes = o.quick ? QUICK : FULL;
  const want = (n: BenchName): boolean => !o.only || o.only.includes(n);
  if (want('cpu')) await cpuBench(sizes, o);
  if (want('high')) await pushBench('high', sizes, o);
  if (want('high-loaded')) await loadedPushBench(sizes, o);
  if (want('full')) await pushBench('full', sizes, o);
  if (want('journal')) await journalBench(o.quick === true, o.onFigure, o.onNote);
  if (want('rss')) await rssBench(sizes, o);
  if (want('pacing')) await pacingBench(sizes, o);
  if (want('decode')) decodeBench(sizes, o);
  if (want('xml')) xmlBench(o);
}
