import { TetherError } from '../../common/errors';
import type { FrameLink } from '../protocol/link';
import type { Clock } from './clock';
import type { Direction, VirtualFaults } from './faults';
import { BusTimeline, type BusReservation, type LinkModel } from './link-model';
import { usbErrors } from './usb-errors';

/**
 * Bytes a phone buffers per direction before it NAKs (OUT) or blocks its sender (IN): as much as
 * its protocol session lets the host have in flight (16 frames of 1 MiB, §5.2 of
 * docs/tether-protocol.md). A phone that NAKed inside the window it announced would throw away
 * what the window is for: transfers queued on the bus while the PC's process is descheduled.
 */
const DEFAULT_BUFFER_BYTES = 16 << 20;

interface Pending<T> {
  settled: boolean;
  resolve(value: T): void;
  reject(err: unknown): void;
}

interface OutTransfer {
  readonly data: Uint8Array;
  readonly op: Pending<USBOutTransferResult>;
}

interface Delivery extends OutTransfer {
  readonly r: BusReservation;
}

interface InRequest {
  readonly length: number;
  readonly op: Pending<USBInTransferResult>;
}

interface TxFrame {
  readonly bytes: Uint8Array;
  pos: number;
  /** A frame that fills its last packet is closed by a zero-length packet still to be sent. */
  zlpPending: boolean;
}

interface RxFrame {
  readonly bytes: Uint8Array;
  /** Bytes it took in the phone's buffer (before any fault changed it). */
  readonly accounted: number;
}

interface RxWaiter {
  readonly view: DeviceLinkView;
  readonly maxLength: number;
  resolve(frame: Uint8Array): void;
  reject(err: unknown): void;
}

export interface WireOptions {
  readonly model: LinkModel;
  readonly clock: Clock;
  readonly faults: VirtualFaults;
  /** Called once when the cable is pulled by a fault (the owner detaches the phone). */
  readonly onUnplug: () => void;
  readonly bufferBytes?: number;
}

/** One buffer of `chunks`; `owned`: the chunks are the wire's own copies, so a single one is returned as it is. */
function concat(chunks: Uint8Array[], total: number, owned = false): Uint8Array {
  if (chunks.length === 1) return owned ? chunks[0]! : chunks[0]!.slice();
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * The two bulk pipes of one attachment (one enumeration) of a virtual phone, with USB transfer
 * semantics, packet by packet:
 *  - OUT: the host's transfers are cut into wMaxPacketSize packets; the phone's read of one frame
 *    ends at a short packet or a zero-length packet (ZLP), so a frame that fills its last packet
 *    continues into the next transfer unless the host sends a ZLP. A lone ZLP carries no frame.
 *  - IN: the phone sends each frame as packets and closes a frame that fills its last packet with
 *    a ZLP. A host transfer completes at a short packet, a ZLP, or when its buffer is full (the rest
 *    stays for the next transfer); a packet larger than the room left is babble.
 *  - Halt: a halted endpoint answers every transfer with status "stall" until clearHalt.
 *  - Timing: every transfer reserves its packets on the shared bus timeline; its data reaches the
 *    other side when its last packet has crossed, and its completion after the turnaround.
 */
export class UsbWire {
  readonly bus: BusTimeline;
  readonly packetSize: number;
  private readonly clock: Clock;
  private readonly faults: VirtualFaults;
  private readonly onUnplug: () => void;
  private readonly bufferBytes: number;

  private gone: 'unplugged' | 'reset' | null = null;
  private view: DeviceLinkView | null = null;
  private readonly halted = { in: false, out: false };
  private readonly hostPending = new Set<Pending<never> | Pending<USBInTransferResult> | Pending<USBOutTransferResult>>();

  // OUT (host → phone)
  private outWaiting: OutTransfer[] = [];
  private deliveries: Delivery[] = [];
  private delivering = false;
  private assembly: Uint8Array[] = [];
  private assemblyBytes = 0;
  private rxFrames: RxFrame[] = [];
  private rxWaiters: RxWaiter[] = [];
  /** Bytes on their way to or waiting in the phone's receive buffer. */
  private rxBytes = 0;

  // IN (phone → host)
  private tx: TxFrame[] = [];
  private txBytes = 0;
  private txDrainWaiters: (() => void)[] = [];
  private inRequests: InRequest[] = [];

  /** Counters of this attachment (fault plans count from here). */
  readonly counters = { outBytes: 0, inBytes: 0, outFramesAssembled: 0, outFramesTaken: 0, inFramesQueued: 0, inFramesDelivered: 0, inFramesDiscarded: 0 };

  constructor(options: WireOptions) {
    this.clock = options.clock;
    this.faults = options.faults;
    this.onUnplug = options.onUnplug;
    this.bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
    this.bus = new BusTimeline(options.model, options.clock);
    this.packetSize = options.model.packetSize;
    this.applySlow();
    for (const d of ['in', 'out'] as const) if (this.faults.stallAfterFrame(d, 0)) this.halted[d] = true;
  }

  /**
   * The phone's side of the pipes as a FrameLink. Each protocol session gets its own view: closing
   * it ends that session's reads and writes, not the pipes, so the phone can answer the next
   * handshake on the same attachment (frames already received stay queued for it).
   */
  get deviceLink(): FrameLink {
    if (!this.view || this.view.closed) this.view = new DeviceLinkView(this);
    return this.view;
  }

  /** A fresh view for a new session (the previous one, if open, is closed). */
  openDeviceLink(): FrameLink {
    if (this.view && !this.view.closed) void this.view.close();
    return this.deviceLink;
  }

  /** Re-reads the slow-device knob (it may be turned at runtime). */
  applySlow(): void {
    const slow = this.faults.slow;
    this.bus.bandwidthFactor = slow.bandwidthFactor;
    this.bus.extraLatencyMs = slow.extraLatencyMs;
  }

  get isGone(): boolean {
    return this.gone !== null;
  }

  isHalted(direction: Direction): boolean {
    return this.halted[direction];
  }

  // ------------------------------------------------------------------ host side (USBDevice)

  transferOut(data: Uint8Array): Promise<USBOutTransferResult> {
    if (this.gone) return Promise.reject(usbErrors.disconnected());
    if (this.halted.out) return Promise.resolve({ status: 'stall', bytesWritten: 0 });
    return new Promise((resolve, reject) => {
      const op = this.track<USBOutTransferResult>(resolve, reject);
      this.outWaiting.push({ data: data.slice(), op });
      this.pumpOut();
    });
  }

  transferIn(length: number): Promise<USBInTransferResult> {
    if (this.gone) return Promise.reject(usbErrors.disconnected());
    if (this.halted.in) return Promise.resolve({ status: 'stall' });
    return new Promise((resolve, reject) => {
      const op = this.track<USBInTransferResult>(resolve, reject);
      this.inRequests.push({ length, op });
      this.pumpIn();
    });
  }

  /** Halts an endpoint (the stall fault, or the phone refusing a pipe). */
  halt(direction: Direction): void {
    if (this.gone || this.halted[direction]) return;
    this.halted[direction] = true;
    if (direction === 'out') {
      for (const w of this.outWaiting.splice(0)) this.settle(w.op, { status: 'stall', bytesWritten: 0 });
    } else {
      for (const r of this.inRequests.splice(0)) this.settle(r.op, { status: 'stall' });
    }
  }

  /** CLEAR_FEATURE(ENDPOINT_HALT): the pipe runs again; the phone drops a half-received frame. */
  clearHalt(direction: Direction): void {
    if (this.gone) return;
    this.halted[direction] = false;
    if (direction === 'out') {
      this.rxBytes -= this.assemblyBytes;
      this.assembly = [];
      this.assemblyBytes = 0;
      this.pumpOut();
    } else {
      this.pumpIn();
    }
  }

  /** The host gave up its transfers (close): they reject with AbortError; data already sent stays sent. */
  abortHostTransfers(): void {
    const err = usbErrors.aborted();
    for (const w of this.outWaiting.splice(0)) this.fail(w.op, err);
    for (const r of this.inRequests.splice(0)) this.fail(r.op, err);
    for (const p of [...this.hostPending]) this.fail(p, err);
  }

  /**
   * The attachment ends: cable pulled (`unplugged`) or a bus reset (`reset`). Host transfers reject
   * (NotFoundError, or AbortError for a reset), the phone's reads and writes reject, nothing else
   * crosses. Idempotent.
   */
  end(reason: 'unplugged' | 'reset'): void {
    if (this.gone) return;
    this.gone = reason;
    const hostErr = reason === 'unplugged' ? usbErrors.disconnected() : usbErrors.aborted();
    for (const p of [...this.hostPending]) this.fail(p, hostErr);
    this.outWaiting = [];
    this.deliveries = [];
    this.inRequests = [];
    this.tx = [];
    this.rxFrames = [];
    this.failDeviceWaiters(new TetherError('USB_DISCONNECTED', undefined, { detail: { op: 'phone-side', reason } }));
  }

  // ------------------------------------------------------------------ phone side (FrameLink)

  private deviceError(view: DeviceLinkView): TetherError | null {
    if (this.gone) return new TetherError('USB_DISCONNECTED', undefined, { detail: { op: 'phone-side', reason: this.gone } });
    if (view.closed) return new TetherError('USB_LINK_CLOSED');
    return null;
  }

  /** @internal DeviceLinkView */
  async deviceSend(view: DeviceLinkView, frame: Uint8Array): Promise<void> {
    const err = this.deviceError(view);
    if (err) throw err;
    const index = this.counters.inFramesQueued++;
    const bytes = this.faults.transformFrame('in', index, frame.slice());
    this.tx.push({ bytes, pos: 0, zlpPending: bytes.byteLength % this.packetSize === 0 });
    this.txBytes += bytes.byteLength;
    this.pumpIn();
    // Backpressure: the phone's sender waits while the host is not reading.
    while (this.txBytes > this.bufferBytes) {
      await new Promise<void>((resolve) => this.txDrainWaiters.push(resolve));
      const again = this.deviceError(view);
      if (again) throw again;
    }
  }

  /** @internal DeviceLinkView */
  deviceReceive(view: DeviceLinkView, maxLength: number): Promise<Uint8Array> {
    const err = this.deviceError(view);
    if (err) return Promise.reject(err);
    return new Promise((resolve, reject) => {
      this.rxWaiters.push({ view, maxLength, resolve, reject });
      this.serveRx();
    });
  }

  /**
   * @internal DeviceLinkView: a new host's HELLO arrived, so every frame still queued in the IN
   * pipe (and the unread rest of one the host is part-way through) belongs to an earlier session.
   */
  discardTx(): number {
    const dropped = this.tx.length;
    this.tx = [];
    this.txBytes = 0;
    this.counters.inFramesDiscarded += dropped;
    for (const d of this.txDrainWaiters.splice(0)) d();
    return dropped;
  }

  /** @internal DeviceLinkView: a frame a session took goes back, first in line for the next session. */
  putBackRx(bytes: Uint8Array): void {
    if (this.gone) return;
    this.rxFrames.unshift({ bytes, accounted: 0 });
    this.serveRx();
  }

  /** @internal DeviceLinkView: a session closed its view. */
  viewClosed(view: DeviceLinkView): void {
    const err = new TetherError('USB_LINK_CLOSED');
    this.rxWaiters = this.rxWaiters.filter((w) => {
      if (w.view !== view) return true;
      w.reject(err);
      return false;
    });
    for (const d of this.txDrainWaiters.splice(0)) d();
  }

  private failDeviceWaiters(err: TetherError): void {
    for (const w of this.rxWaiters.splice(0)) w.reject(err);
    for (const d of this.txDrainWaiters.splice(0)) d();
  }

  private serveRx(): void {
    while (this.rxWaiters.length > 0 && this.rxFrames.length > 0 && !this.gone) {
      const w = this.rxWaiters.shift()!;
      const f = this.rxFrames.shift()!;
      this.rxBytes -= f.accounted;
      this.counters.outFramesTaken++;
      if (f.bytes.byteLength > w.maxLength) {
        w.reject(new TetherError('USB_FRAME_TOO_LONG', undefined, { detail: { length: f.bytes.byteLength, maxLength: w.maxLength } }));
      } else {
        w.resolve(f.bytes);
      }
      // "Unplug after frame M": the phone has taken frame M, then the cable goes.
      if (this.faults.unplugAfterFrame('out', this.counters.outFramesTaken)) {
        this.pullCable();
        return;
      }
      this.pumpOut();
    }
  }

  // ------------------------------------------------------------------ OUT pipe

  private pumpOut(): void {
    while (this.outWaiting.length > 0 && !this.gone && !this.halted.out) {
      const head = this.outWaiting[0]!;
      // The phone NAKs while its buffer is full (the transfer waits, as on a real bus).
      if (this.rxBytes > 0 && this.rxBytes + head.data.byteLength > this.bufferBytes) return;
      this.outWaiting.shift();
      if (head.op.settled) continue;
      this.rxBytes += head.data.byteLength;
      const r = this.bus.reserve(head.data.byteLength, 'out');
      this.deliveries.push({ ...head, r });
    }
    void this.runDeliveries();
  }

  private async runDeliveries(): Promise<void> {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.deliveries.length > 0 && !this.gone) {
        const d = this.deliveries[0]!;
        await this.clock.sleepUntil(d.r.end);
        if (this.gone || this.deliveries[0] !== d) break;
        this.deliveries.shift();
        this.deliverOut(d);
      }
    } finally {
      this.delivering = false;
    }
  }

  private deliverOut(d: Delivery): void {
    const len = d.data.byteLength;
    const allowed = this.faults.bytesBeforeUnplug('out', this.counters.outBytes, len);
    if (allowed < len) {
      // The cable goes mid-transfer: the phone got the packets before it, never a frame's end.
      this.counters.outBytes += allowed;
      this.pullCable();
      return;
    }
    this.counters.outBytes += len;
    if (len > 0) {
      this.assembly.push(d.data);
      this.assemblyBytes += len;
    }
    if (len === 0 || len % this.packetSize !== 0) this.closeOutFrame();
    if (this.gone) return;
    void this.clock.sleepUntil(d.r.completeAt).then(() => {
      if (d.op.settled) return;
      this.bus.settled(d.r.completeAt);
      this.settle(d.op, { status: 'ok', bytesWritten: len });
    });
  }

  private closeOutFrame(): void {
    const total = this.assemblyBytes;
    const chunks = this.assembly;
    this.assembly = [];
    this.assemblyBytes = 0;
    if (total === 0) return; // a lone ZLP carries no frame (frames are never empty)
    const index = this.counters.outFramesAssembled++;
    // The chunks are copies transferOut took of the host's data (the host may reuse its buffer), so
    // a frame of one transfer needs no second copy.
    const bytes = this.faults.transformFrame('out', index, concat(chunks, total, true));
    this.rxFrames.push({ bytes, accounted: total });
    if (this.faults.stallAfterFrame('out', this.counters.outFramesAssembled)) this.halt('out');
    this.serveRx();
  }

  // ------------------------------------------------------------------ IN pipe

  private pumpIn(): void {
    while (this.inRequests.length > 0 && this.tx.length > 0 && !this.gone && !this.halted.in) {
      const req = this.inRequests.shift()!;
      if (req.op.settled) continue;
      this.serveIn(req);
    }
  }

  private serveIn(req: InRequest): void {
    const P = this.packetSize;
    const f = this.tx[0]!;
    const chunks: Uint8Array[] = [];
    let got = 0;
    let packets = 0;
    let status: USBTransferStatus = 'ok';
    for (;;) {
      const rem = f.bytes.byteLength - f.pos;
      const size = rem > 0 ? Math.min(P, rem) : f.zlpPending ? 0 : -1;
      if (size < 0) break;
      const space = req.length - got;
      if (space === 0) break; // buffer full: the transfer completes; the rest waits for the next one
      if (size > space) {
        // Babble: the packet does not fit. The host keeps what fits; the packet is spent.
        chunks.push(f.bytes.subarray(f.pos, f.pos + space));
        got += space;
        f.pos += size;
        packets++;
        status = 'babble';
        break;
      }
      if (size > 0) {
        chunks.push(f.bytes.subarray(f.pos, f.pos + size));
        f.pos += size;
        got += size;
      } else {
        f.zlpPending = false;
      }
      packets++;
      if (size < P) break; // short packet or ZLP: end of transfer
    }
    const frameDone = f.pos >= f.bytes.byteLength && !f.zlpPending;
    if (frameDone) this.tx.shift();
    this.txBytes -= got;
    if (this.txBytes <= this.bufferBytes) for (const d of this.txDrainWaiters.splice(0)) d();

    const allowed = this.faults.bytesBeforeUnplug('in', this.counters.inBytes, got);
    if (allowed < got) {
      this.counters.inBytes += allowed;
      this.pullCable();
      return;
    }
    this.counters.inBytes += got;
    let unplugAfter = false;
    if (frameDone) {
      this.counters.inFramesDelivered++;
      unplugAfter = this.faults.unplugAfterFrame('in', this.counters.inFramesDelivered);
      if (this.faults.stallAfterFrame('in', this.counters.inFramesDelivered)) this.halt('in');
    }
    const data = concat(chunks, got);
    const r = this.bus.reservePackets(packets, 'in');
    void this.clock.sleepUntil(r.completeAt).then(() => {
      if (req.op.settled) return;
      this.bus.settled(r.completeAt);
      this.settle(req.op, { status, data: new DataView(data.buffer, data.byteOffset, data.byteLength) });
      if (unplugAfter) this.pullCable();
    });
  }

  // ------------------------------------------------------------------ helpers

  private pullCable(): void {
    if (this.gone) return;
    this.end('unplugged');
    this.onUnplug();
  }

  private track<T>(resolve: (v: T) => void, reject: (e: unknown) => void): Pending<T> {
    const p: Pending<T> = { settled: false, resolve, reject };
    this.hostPending.add(p as Pending<never>);
    return p;
  }

  private settle<T>(p: Pending<T>, value: T): void {
    if (p.settled) return;
    p.settled = true;
    this.hostPending.delete(p as Pending<never>);
    p.resolve(value);
  }

  private fail(p: Pending<unknown>, err: unknown): void {
    if (p.settled) return;
    p.settled = true;
    this.hostPending.delete(p as Pending<never>);
    p.reject(err);
  }
}

/** One session's handle on the phone's side of the pipes. */
class DeviceLinkView implements FrameLink {
  closed = false;
  constructor(private readonly wire: UsbWire) {}

  send(frame: Uint8Array): Promise<void> {
    return this.wire.deviceSend(this, frame);
  }

  receive(maxLength: number): Promise<Uint8Array> {
    return this.wire.deviceReceive(this, maxLength);
  }

  discardUnsent(): number {
    return this.closed ? 0 : this.wire.discardTx();
  }

  putBack(frame: Uint8Array): void {
    if (!this.closed) this.wire.putBackRx(frame);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wire.viewClosed(this);
  }
}
