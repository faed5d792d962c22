import { TetherError } from '../../common/errors';
import type { FrameLink } from '../protocol/link';
import type { TetherInterface } from './endpoints';
import { usbErrorFrom } from './errors';

/** The transfer part of a W3C USBDevice that the link uses. */
export type TransferDevice = Pick<USBDevice, 'transferIn' | 'transferOut' | 'clearHalt'>;

const EMPTY = new Uint8Array(0);

/** A status outside WebUSB's ok/stall/babble (a broken backend): never read as success. */
function unknownStatus(op: 'transfer-in' | 'transfer-out', endpoint: number, status: unknown): TetherError {
  return new TetherError('USB_TRANSFER_FAILED', 'The USB stack reported an unknown transfer status.', {
    detail: { op, endpoint, status: String(status) },
  });
}

export interface UsbFrameLinkOptions {
  /** Releases the interface and the device (called once, by close()). */
  readonly onClose?: () => Promise<void>;
  /** Transfers queued at once before send() waits (16). */
  readonly queueDepth?: number;
  /**
   * Bytes queued at once before send() waits (8 MiB: about 160 ms of high-speed bus, which a
   * descheduled process finds still busy; half the session's default credit window, so the RSS of
   * a push stays bounded: 16 MiB measured no better under load).
   */
  readonly queueBytes?: number;
  /** How long close() lets in-flight sends finish before releasing the interface (250 ms). */
  readonly closeGraceMs?: number;
}

/**
 * A FrameLink over a device's bulk endpoints: one transfer carries one frame.
 *
 * Sending: a frame whose length is a multiple of the OUT endpoint's wMaxPacketSize is followed by a
 * zero-length packet, because otherwise the phone's read would not know the frame had ended.
 * Receiving: the IN buffer is rounded up past `maxLength` to whole packets, so a frame that ends
 * on a packet boundary is still closed by the phone's short (or zero-length) packet and any
 * transfer that fills the buffer is known to be too long.
 */
export class UsbFrameLink implements FrameLink {
  private readonly sending = new Set<Promise<void>>();
  private queuedBytes = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private halted = false;
  private failure: TetherError | null = null;
  private closing: Promise<void> | null = null;
  /** Rejecters of the operations in flight: a failure or close rejects them all at once. */
  private readonly pending = new Set<(err: TetherError) => void>();

  private readonly onClose: () => Promise<void>;
  private readonly queueDepth: number;
  private readonly queueBytes: number;
  private readonly closeGraceMs: number;

  constructor(
    private readonly device: TransferDevice,
    readonly endpoints: TetherInterface,
    options: UsbFrameLinkOptions = {},
  ) {
    this.onClose = options.onClose ?? (async () => {});
    this.queueDepth = options.queueDepth ?? 16;
    this.queueBytes = options.queueBytes ?? 8 * 1024 * 1024;
    this.closeGraceMs = options.closeGraceMs ?? 250;
  }

  private fail(err: TetherError): void {
    if (this.failure) return;
    this.failure = err;
    for (const reject of [...this.pending]) reject(err);
    this.pending.clear();
  }

  /** True once the link was closed or the device went away. */
  get isClosed(): boolean {
    return this.failure !== null;
  }

  /** Called by the owner when the bus reports the device gone: pending transfers reject at once. */
  disconnected(): void {
    this.fail(new TetherError('USB_DISCONNECTED', undefined, { detail: { op: 'transfer-in' } }));
  }

  /**
   * Submits the frame (and its ZLP) at once and resolves as soon as it is queued, while no more
   * than `queueDepth` transfers and `queueBytes` bytes are outstanding; otherwise once one completes. A USB host stack works
   * this way (many transfers queued per endpoint) and it keeps the bus busy when the event loop is
   * late: completions are then handled in batches without the bus idling. Transfers go out in
   * call order. A transfer that fails fails the whole link (a lost frame cannot be told apart
   * from a late one), so the error surfaces on the next send or the pending receive.
   */
  send(frame: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (frame.byteLength === 0) return Promise.reject(new TetherError('BAD_INPUT', 'send: a frame is never empty'));
    const transfers = [this.transferOut(frame)];
    if (frame.byteLength % this.endpoints.out.packetSize === 0) transfers.push(this.transferOut(EMPTY));
    const done = Promise.all(transfers).then(
      () => {},
      (err: unknown) => {
        this.fail(err instanceof TetherError ? err : usbErrorFrom(err, 'transfer-out'));
      },
    );
    this.sending.add(done);
    this.queuedBytes += frame.byteLength;
    void done.then(() => {
      this.sending.delete(done);
      this.queuedBytes -= frame.byteLength;
      this.slotWaiters.shift()?.();
    });
    if (this.sending.size <= this.queueDepth && this.queuedBytes <= this.queueBytes) return Promise.resolve();
    return this.race(new Promise<void>((resolve) => this.slotWaiters.push(resolve))).then(() => {
      if (this.failure) throw this.failure;
    });
  }

  async receive(maxLength: number): Promise<Uint8Array> {
    if (!Number.isInteger(maxLength) || maxLength <= 0) throw new TetherError('BAD_INPUT', `receive: maxLength must be a positive integer, got ${maxLength}`);
    const size = this.endpoints.in.packetSize;
    const request = (Math.floor(maxLength / size) + 1) * size;
    for (;;) {
      const data = await this.race(this.transferIn(request));
      // A stray zero-length packet carries no frame (frames are never empty); read on.
      if (data.byteLength === 0) continue;
      if (data.byteLength > maxLength) {
        throw new TetherError('USB_FRAME_TOO_LONG', undefined, { detail: { length: data.byteLength, maxLength } });
      }
      return data;
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.fail(new TetherError('USB_LINK_CLOSED'));
      // Let in-flight sends settle before the interface is released, but not forever: a phone
      // that stopped reading never completes them, and releasing the interface cancels them.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.sending]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.closeGraceMs);
          timer.unref?.();
        }),
      ]);
      clearTimeout(timer);
      await this.onClose().catch(() => {});
    })();
    return this.closing;
  }

  /** Settles with `op`, or rejects as soon as the link fails (without waiting for `op`). */
  private race<T>(op: Promise<T>): Promise<T> {
    if (this.failure) {
      op.catch(() => {});
      return Promise.reject(this.failure);
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      op.then(
        (value) => {
          this.pending.delete(reject);
          resolve(value);
        },
        (err: unknown) => {
          this.pending.delete(reject);
          reject(err);
        },
      );
    });
  }

  private async transferOut(data: Uint8Array): Promise<void> {
    const ep = this.endpoints.out.endpointNumber;
    let result: USBOutTransferResult;
    try {
      result = await this.device.transferOut(ep, data);
    } catch (err) {
      throw usbErrorFrom(err, 'transfer-out');
    }
    if (result.status === 'stall') {
      // Every queued transfer sees the same halt; clear it once.
      if (!this.halted) {
        this.halted = true;
        await this.clearHalt('out', ep);
      }
      throw new TetherError('USB_STALL', undefined, { detail: { op: 'transfer-out', endpoint: ep } });
    }
    if (result.status === 'babble') throw new TetherError('USB_BABBLE', undefined, { detail: { op: 'transfer-out', endpoint: ep } });
    if (result.status !== 'ok') throw unknownStatus('transfer-out', ep, result.status);
    if (result.bytesWritten !== data.byteLength) {
      throw new TetherError('USB_TRANSFER_FAILED', 'The phone took only part of a USB transfer.', {
        detail: { op: 'transfer-out', written: result.bytesWritten, length: data.byteLength },
      });
    }
  }

  private async transferIn(length: number): Promise<Uint8Array> {
    const ep = this.endpoints.in.endpointNumber;
    let result: USBInTransferResult;
    try {
      result = await this.device.transferIn(ep, length);
    } catch (err) {
      throw usbErrorFrom(err, 'transfer-in');
    }
    if (result.status === 'stall') {
      await this.clearHalt('in', ep);
      throw new TetherError('USB_STALL', undefined, { detail: { op: 'transfer-in', endpoint: ep } });
    }
    if (result.status === 'babble') throw new TetherError('USB_BABBLE', undefined, { detail: { op: 'transfer-in', endpoint: ep, length } });
    if (result.status !== 'ok') throw unknownStatus('transfer-in', ep, result.status);
    const view = result.data;
    return view ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : EMPTY;
  }

  private async clearHalt(direction: USBDirection, ep: number): Promise<void> {
    try {
      await this.device.clearHalt(direction, ep);
    } catch (err) {
      throw usbErrorFrom(err, 'clear-halt');
    }
  }
}
