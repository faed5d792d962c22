import type { ErrorCode } from '../../common/errors';

export type Direction = 'in' | 'out';

/**
 * Faults a virtual phone can be told to show. Counts (bytes, frames, operations) start again at
 * each attachment (each time the phone enumerates); a one-shot fault fires once and is then spent,
 * so "unplug at byte N" followed by a resume does not unplug again at byte N.
 */
export interface FaultPlan {
  /** Pull the cable when byte N (0-based, of this attachment, in `direction`, default out) crosses. */
  unplugAtByte?: { byte: number; direction?: Direction };
  /** Pull the cable once `frames` whole frames have reached the other side in `direction` (default out). */
  unplugAfterFrames?: { frames: number; direction?: Direction };
  /** Pull the cable after the phone has handled `count` (default 1) requests of `operation`, before it answers. */
  unplugAfterOperation?: { operation: string; count?: number };
  /** Flip bits (xor, default 0xff) at `offset` (default the middle) of frame `index` (0-based) in `direction`. */
  corruptFrame?: FrameCorruption | FrameCorruption[];
  /** Cut frame `index` in `direction` to `length` bytes. */
  truncateFrame?: FrameTruncation | FrameTruncation[];
  /** Halt the endpoint of `direction` once `frames` frames have crossed (0 = at once). */
  stallAfterFrames?: { direction: Direction; frames: number };
  /** A slow device: a share of the bus bandwidth (0 < f ≤ 1) and extra latency per transfer. */
  slow?: { bandwidthFactor?: number; extraLatencyMs?: number };
  /** Reboot (unplug, boot, re-enumerate) when the firmware image being received reaches this many bytes. */
  rebootDuringUpdate?: { atByte: number };
  /** The next boot of a newly activated image fails: the boot loader falls back to the other slot. */
  failNextBoot?: boolean;
  /** Answer `operation` with this typed error (`times` times, default every time). */
  refuse?: OperationRefusal | OperationRefusal[];
  /** Another program holds the tether interface: claimInterface fails with NetworkError. */
  interfaceBusy?: boolean;
  /** Milliseconds from power-on (reboot, re-plug) until the phone enumerates again; default 50. */
  bootMs?: number;
}

export interface FrameCorruption {
  direction?: Direction;
  index: number;
  offset?: number;
  xor?: number;
}

export interface FrameTruncation {
  direction?: Direction;
  index: number;
  length: number;
}

export interface OperationRefusal {
  operation: string;
  code: ErrorCode;
  message?: string;
  times?: number;
}

function list<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? [...v] : [v];
}

/** The live fault state of one phone: the plan, what has been spent, and knobs to turn at runtime. */
export class VirtualFaults {
  private plan: FaultPlan;
  private corruptions: FrameCorruption[];
  private truncations: FrameTruncation[];
  private refusals: (OperationRefusal & { left: number })[];
  private operationCounts = new Map<string, number>();

  constructor(plan: FaultPlan = {}) {
    this.plan = { ...plan };
    this.corruptions = list(plan.corruptFrame);
    this.truncations = list(plan.truncateFrame);
    this.refusals = list(plan.refuse).map((r) => ({ ...r, left: r.times ?? Number.POSITIVE_INFINITY }));
  }

  /** Adds or replaces knobs at runtime (arrays are appended). */
  set(plan: FaultPlan): void {
    this.corruptions.push(...list(plan.corruptFrame));
    this.truncations.push(...list(plan.truncateFrame));
    this.refusals.push(...list(plan.refuse).map((r) => ({ ...r, left: r.times ?? Number.POSITIVE_INFINITY })));
    this.plan = { ...this.plan, ...plan };
  }

  /** Removes every fault. */
  clear(): void {
    this.plan = {};
    this.corruptions = [];
    this.truncations = [];
    this.refusals = [];
  }

  get interfaceBusy(): boolean {
    return this.plan.interfaceBusy === true;
  }

  get slow(): { bandwidthFactor: number; extraLatencyMs: number } {
    const f = this.plan.slow?.bandwidthFactor ?? 1;
    return { bandwidthFactor: f > 0 && f <= 1 ? f : 1, extraLatencyMs: Math.max(0, this.plan.slow?.extraLatencyMs ?? 0) };
  }

  get bootMs(): number {
    return Math.max(0, this.plan.bootMs ?? 50);
  }

  /** Attachment started: operation counts start again (the plan's one-shots stay spent). */
  newAttachment(): void {
    this.operationCounts.clear();
  }

  /**
   * How many of `length` bytes may cross before the cable is pulled, given `sent` bytes already
   * crossed in `direction` this attachment. Returns `length` when no unplug falls in this range.
   */
  bytesBeforeUnplug(direction: Direction, sent: number, length: number): number {
    const u = this.plan.unplugAtByte;
    if (!u || (u.direction ?? 'out') !== direction) return length;
    if (u.byte >= sent + length) return length;
    delete this.plan.unplugAtByte;
    return Math.max(0, u.byte - sent);
  }

  /** True when the cable must be pulled now that `frames` frames crossed in `direction`. */
  unplugAfterFrame(direction: Direction, frames: number): boolean {
    const u = this.plan.unplugAfterFrames;
    if (!u || (u.direction ?? 'out') !== direction || frames < u.frames) return false;
    delete this.plan.unplugAfterFrames;
    return true;
  }

  /** True when the endpoint of `direction` must halt now that `frames` frames crossed. */
  stallAfterFrame(direction: Direction, frames: number): boolean {
    const s = this.plan.stallAfterFrames;
    if (!s || s.direction !== direction || frames < s.frames) return false;
    delete this.plan.stallAfterFrames;
    return true;
  }

  /** Applies corruption and truncation planned for frame `index` of `direction`; returns the bytes that cross. */
  transformFrame(direction: Direction, index: number, frame: Uint8Array): Uint8Array {
    let out = frame;
    const ci = this.corruptions.findIndex((c) => (c.direction ?? 'out') === direction && c.index === index);
    if (ci >= 0) {
      const c = this.corruptions.splice(ci, 1)[0]!;
      if (out.byteLength > 0) {
        out = out.slice();
        const at = Math.min(out.byteLength - 1, Math.max(0, c.offset ?? Math.floor(out.byteLength / 2)));
        out[at] = out[at]! ^ (c.xor ?? 0xff);
      }
    }
    const ti = this.truncations.findIndex((t) => (t.direction ?? 'out') === direction && t.index === index);
    if (ti >= 0) {
      const t = this.truncations.splice(ti, 1)[0]!;
      out = out.slice(0, Math.max(0, Math.min(out.byteLength, t.length)));
    }
    return out;
  }

  /** The refusal for this operation, if one is planned (counts it as used). */
  refusal(operation: string): { code: ErrorCode; message: string | undefined } | null {
    const r = this.refusals.find((x) => x.operation === operation && x.left > 0);
    if (!r) return null;
    r.left -= 1;
    return { code: r.code, message: r.message };
  }

  /** Counts a handled request; true when the cable must be pulled before the phone answers it. */
  unplugAfterOperation(operation: string): boolean {
    const n = (this.operationCounts.get(operation) ?? 0) + 1;
    this.operationCounts.set(operation, n);
    const u = this.plan.unplugAfterOperation;
    if (!u || u.operation !== operation || n < (u.count ?? 1)) return false;
    delete this.plan.unplugAfterOperation;
    return true;
  }

  /** True when the image being received has reached the planned reboot point (fires once). */
  rebootAtImageByte(have: number): boolean {
    const r = this.plan.rebootDuringUpdate;
    if (!r || have < r.atByte) return false;
    delete this.plan.rebootDuringUpdate;
    return true;
  }

  /** True when this boot of a newly activated image must fail (fires once). */
  takeFailNextBoot(): boolean {
    if (!this.plan.failNextBoot) return false;
    this.plan.failNextBoot = false;
    return true;
  }
}
