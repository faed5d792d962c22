import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Channel, FrameType, decodeFrame } from '../../../native/protocol/frame';
import { openFrame, sealFrame } from '../../../native/protocol/handshake';
import { connect } from './fixtures';

/** The bench's link: 53.248 MB/s; the codec must do 4× that per core, in each direction. */
const LINK_BYTES_PER_SECOND = 53.248e6;
const REQUIRED = 4 * LINK_BYTES_PER_SECOND;

/** Bytes per CPU-second (user + system), so other processes on the machine do not skew it. */
function perCpuSecond(bytes: number, run: () => void): number {
  run(); // warm up the JIT
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return bytes / ((used.user + used.system) / 1e6);
}

describe('codec throughput (framing + CRC-32C + AES-256-GCM)', () => {
  it('seals and opens full 64 KiB bulk frames at ≥ 4 × 53.248 MB/s per core', () => {
    const keys = { key: randomBytes(32), iv: randomBytes(4) };
    const header = new Uint8Array(12);
    const data = randomBytes(65536 - 16 - 12);
    const frames = 600;
    const sealed: Uint8Array[] = [];
    const seal = perCpuSecond(frames * 65536, () => {
      sealed.length = 0;
      for (let i = 0; i < frames; i++) {
        sealed.push(sealFrame(keys, { type: FrameType.DATA, flags: 0, channel: Channel.BULK, seq: i, ack: 0 }, [header, data]));
      }
    });
    const open = perCpuSecond(frames * 65536, () => {
      for (let i = 0; i < frames; i++) {
        const f = decodeFrame(sealed[i]!, 65536);
        openFrame(keys, f.raw, f.seq);
      }
    });
    console.log(`codec: seal ${(seal / 1e6).toFixed(0)} MB/s, decode+open ${(open / 1e6).toFixed(0)} MB/s per core (need ${(REQUIRED / 1e6).toFixed(0)})`);
    expect(seal).toBeGreaterThan(REQUIRED);
    expect(open).toBeGreaterThan(REQUIRED);
  });

  it('streams 16 MiB through host and phone sessions in one process (both sides on one core)', async () => {
    let got = 0;
    const { host } = await connect({ onBulk: async (c) => void (got += c.data.length) });
    const image = randomBytes(16 * 1024 * 1024);
    const w = host.bulkWriter(1);
    const start = process.cpuUsage();
    const t0 = performance.now();
    await w.write(0, image);
    await w.flush();
    const used = process.cpuUsage(start);
    const cpu = (used.user + used.system) / 1e6;
    const wall = (performance.now() - t0) / 1000;
    expect(got).toBe(image.length);
    console.log(`session stream: ${(image.length / 1e6 / cpu).toFixed(0)} MB per CPU-second for both sides, ${(image.length / 1e6 / wall).toFixed(0)} MB/s wall`);
    // Both ends' codec work on one core must still beat the link with room to spare.
    expect(image.length / cpu).toBeGreaterThan(LINK_BYTES_PER_SECOND);
    await host.close();
  });
});
