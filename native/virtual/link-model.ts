import type { Clock } from './clock';

/** The bus speeds a tethered phone negotiates (USB 2.0). */
export type LinkSpeed = 'high' | 'full';

/**
 * How fast bulk transfers move. USB 2.0 bulk bandwidth is bounded by how many max-size packets fit
 * in one (micro)frame: high speed 13 × 512 bytes per 125 µs microframe = 53.248 MB/s; full speed
 * 19 × 64 bytes per 1 ms frame = 1.216 MB/s (USB 2.0 spec §5.8.4, Table 5-10).
 */
export interface LinkModel {
  readonly speed: LinkSpeed;
  /** wMaxPacketSize of both bulk endpoints. */
  readonly packetSize: number;
  readonly packetsPerInterval: number;
  /** (Micro)frame length in milliseconds. */
  readonly intervalMs: number;
  /** Time from a transfer's last packet to its completion reaching the caller (not bus time). */
  readonly turnaroundMs: number;
  /** Payload bytes per second when the bus never idles. */
  readonly capacityBytesPerSecond: number;
}

export function linkModel(speed: LinkSpeed, overrides: { turnaroundMs?: number } = {}): LinkModel {
  const base =
    speed === 'high'
      ? { packetSize: 512, packetsPerInterval: 13, intervalMs: 0.125, turnaroundMs: 0.125 }
      : { packetSize: 64, packetsPerInterval: 19, intervalMs: 1, turnaroundMs: 1 };
  return {
    speed,
    ...base,
    turnaroundMs: overrides.turnaroundMs ?? base.turnaroundMs,
    capacityBytesPerSecond: (base.packetsPerInterval * base.packetSize * 1000) / base.intervalMs,
  };
}

/** Packets a transfer of `bytes` occupies on the bus (a zero-length packet still takes a slot). */
export function packetsFor(bytes: number, packetSize: number): number {
  return Math.max(1, Math.ceil(bytes / packetSize));
}

export interface BusReservation {
  /** When the first packet goes out. */
  readonly start: number;
  /** When the last packet has crossed the bus. */
  readonly end: number;
  /** When the transfer's completion reaches the caller. */
  readonly completeAt: number;
}

/**
 * One shared bus (USB 2.0 is half-duplex: IN and OUT packets share it). Each direction queues its
 * transfers: a reservation starts where that direction's previous one ended, or now if it is idle,
 * so pipelined transfers keep the bus busy. The host controller interleaves the two directions
 * packet by packet, so a short transfer (an acknowledgement) does not wait behind a long queue the
 * other way: it goes at once, and the other direction's queue is pushed back by the bus time it
 * took, so the two together never exceed capacity (over any stretch longer than one queue).
 *
 * A real clock wakes callers late (timer granularity, a busy event loop). When a completion reaches
 * its caller λ ms after it was due, the caller's next transfer is treated as submitted λ ms
 * earlier (`lag`), so even a stop-and-wait caller is charged bus time and turnaround, not timer
 * lateness. λ is capped so that a stalled process is not mistaken for a fast bus.
 */
export class BusTimeline {
  private readonly busyUntil = { in: Number.NEGATIVE_INFINITY, out: Number.NEGATIVE_INFINITY };
  private busyTotal = 0;
  private lag = 0;
  /** Bandwidth share the device grants (1 = all of it; the "slow device" fault lowers it). */
  bandwidthFactor = 1;
  /** Extra per-transfer latency the device adds (the "slow device" fault). */
  extraLatencyMs = 0;

  static readonly MAX_LAG_MS = 20;

  constructor(
    readonly model: LinkModel,
    private readonly clock: Clock,
  ) {}

  /** Reserves bus time for `packets` packets in `direction` (a zero-length packet counts as one). */
  reservePackets(packets: number, direction: 'in' | 'out' = 'out'): BusReservation {
    const packetTime = this.model.intervalMs / this.model.packetsPerInterval;
    const duration = (Math.max(1, packets) * packetTime) / this.bandwidthFactor;
    const start = Math.max(this.busyUntil[direction], this.clock.now() - this.lag);
    const end = start + duration;
    this.busyUntil[direction] = end;
    const other = direction === 'in' ? 'out' : 'in';
    // Packets of both directions interleave: whatever of this transfer overlaps the other
    // direction's queue delays that queue by as much.
    const overlap = Math.max(0, Math.min(end, this.busyUntil[other]) - start);
    this.busyUntil[other] += overlap;
    this.busyTotal += duration;
    return { start, end, completeAt: end + this.model.turnaroundMs + this.extraLatencyMs };
  }

  /** Reserves bus time for a transfer of `bytes` bytes. */
  reserve(bytes: number, direction: 'in' | 'out' = 'out'): BusReservation {
    return this.reservePackets(packetsFor(bytes, this.model.packetSize), direction);
  }

  /** A completion due at `dueAt` has just reached its caller. */
  settled(dueAt: number): void {
    this.lag = Math.min(BusTimeline.MAX_LAG_MS, Math.max(0, this.clock.now() - dueAt));
  }

  /** Milliseconds the bus has spent carrying packets so far. */
  get busyMs(): number {
    return this.busyTotal;
  }
}
