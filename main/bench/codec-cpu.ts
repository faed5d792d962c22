import { randomBytes } from 'node:crypto';
import { TetherError } from '../../common/errors';
import { memoryLinkPair, openDeviceSession, openHostSession, type DeviceIdentity, type SessionOptions } from '../../native/protocol';

export interface CodecCpuResult {
  readonly bytes: number;
  /** CPU milliseconds (user + system) per MiB moved, both ends counted. */
  readonly cpuMsPerMiB: number;
  /** MiB/s the CPU could move if it did nothing else. */
  readonly cpuMiBPerSecond: number;
}

const IDENTITY: DeviceIdentity = {
  modelId: 'CX600',
  serial: 'BENCH-CPU',
  hardwareRevision: 'A',
  firmwareVersion: '4.0.7577.4455',
  mac: '00:04:f2:00:00:01',
  locale: 'ENU',
};

/**
 * CPU cost of the protocol's per-byte work (framing, CRC-32C, AES-256-GCM, flow control) on the
 * firmware path: `bytes` go from a host session to a phone session over an in-memory link, so no
 * bus time is involved and process.cpuUsage measures only encoding and decoding. Both ends run in
 * this process, so the figure counts the host's and the phone's work together (conservative: the
 * host alone does about half).
 */
export async function measureCodecCpu(bytes: number, chunkBytes = 1 << 20, session: SessionOptions = {}): Promise<CodecCpuResult> {
  const [hostLink, phoneLink] = memoryLinkPair();
  let received = 0;
  const [host, phone] = await Promise.all([
    openHostSession(hostLink, session),
    openDeviceSession(phoneLink, {
      ...session,
      identity: IDENTITY,
      handlers: { firmwareBegin: async () => ({ transferId: 1, slot: 'b', have: 0 }) },
      onBulk: async (chunk) => {
        received += chunk.data.byteLength;
      },
    }),
  ]);
  try {
    const warmUp = Math.min(4 * chunkBytes, Math.max(chunkBytes, bytes >>> 3));
    const { transferId } = await host.call('firmwareBegin', { size: warmUp + bytes, version: 'bench', sha256: new Uint8Array(32) });
    const writer = host.bulkWriter(transferId);
    const chunk = new Uint8Array(randomBytes(chunkBytes));
    // Steady state is what matters for a long push: let the JIT settle on an unmeasured prefix.
    for (let offset = 0; offset < warmUp; offset += chunkBytes) await writer.write(offset, chunk.subarray(0, Math.min(chunkBytes, warmUp - offset)));
    await writer.flush();
    received = 0;
    const before = process.cpuUsage();
    for (let offset = 0; offset < bytes; offset += chunkBytes) {
      await writer.write(warmUp + offset, chunk.subarray(0, Math.min(chunkBytes, bytes - offset)));
    }
    await writer.flush();
    const used = process.cpuUsage(before);
    if (received !== bytes) throw new TetherError('INTERNAL', `codec bench: phone received ${received} of ${bytes} bytes`);
    const cpuMs = (used.user + used.system) / 1000;
    const mib = bytes / (1 << 20);
    return { bytes, cpuMsPerMiB: cpuMs / mib, cpuMiBPerSecond: mib / (cpuMs / 1000) };
  } finally {
    await host.close();
    await phone.close();
  }
}
