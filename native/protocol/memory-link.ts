import { TetherError } from '../../common/errors';
import type { FrameLink } from './link';

/** Which way a frame travels in a memory link pair: 'a→b' is from the first link to the second. */
export type MemoryDirection = 'a→b' | 'b→a';

export interface MemoryLinkOptions {
  /**
   * Sees every frame in flight and returns the frames to deliver instead: `[frame]` passes it,
   * `[]` drops (or holds) it, `[f, f]` replays it, a changed copy alters it. Tests use it to tap raw
   * bytes and to inject faults; the default delivers every frame unchanged.
   */
  readonly transform?: (direction: MemoryDirection, frame: Uint8Array) => readonly Uint8Array[];
}

class MemoryLink implements FrameLink {
  private readonly queue: Uint8Array[] = [];
  private readonly waiting: Array<{ maxLength: number; resolve: (f: Uint8Array) => void; reject: (e: unknown) => void }> = [];
  private closedFlag = false;
  peer: MemoryLink | undefined;

  constructor(
    private readonly direction: MemoryDirection,
    private readonly transform: MemoryLinkOptions['transform'],
  ) {}

  async send(frame: Uint8Array): Promise<void> {
    if (this.closedFlag || this.peerGone || this.peer === undefined || this.peer.closedFlag) throw linkClosed();
    const frames = this.transform === undefined ? [frame] : this.transform(this.direction, frame);
    for (const f of frames) this.peer.deliver(f);
  }

  receive(maxLength: number): Promise<Uint8Array> {
    if (this.closedFlag) return Promise.reject(linkClosed());
    const next = this.queue.shift();
    if (next !== undefined) return next.length > maxLength ? Promise.reject(oversize(next.length, maxLength)) : Promise.resolve(next);
    if (this.peerGone) return Promise.reject(linkClosed());
    return new Promise((resolve, reject) => this.waiting.push({ maxLength, resolve, reject }));
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.queue.length = 0;
    for (const w of this.waiting.splice(0)) w.reject(linkClosed());
    this.peer?.peerClosed();
  }

  /**
   * The other end closed: frames it sent before are still read (they were transferred), then
   * receives fail; sends fail at once.
   */
  private peerClosed(): void {
    this.peerGone = true;
    for (const w of this.waiting.splice(0)) w.reject(linkClosed());
  }
  private peerGone = false;

  private deliver(frame: Uint8Array): void {
    if (this.closedFlag) return;
    const w = this.waiting.shift();
    if (w === undefined) this.queue.push(frame);
    else if (frame.length > w.maxLength) w.reject(oversize(frame.length, w.maxLength));
    else w.resolve(frame);
  }
}

function linkClosed(): TetherError {
  return new TetherError('PROTOCOL_LINK_CLOSED');
}

function oversize(length: number, maxLength: number): TetherError {
  return new TetherError('PROTOCOL_OVERSIZE', undefined, { detail: { length, maxLength } });
}

/**
 * Two connected in-memory FrameLinks (for tests and in-process demos). Closing one end is like
 * pulling the cable after the last transfer: the other end still reads what was already sent, then
 * its receives and sends fail with PROTOCOL_LINK_CLOSED.
 */
export function memoryLinkPair(options: MemoryLinkOptions = {}): [FrameLink, FrameLink] {
  const a = new MemoryLink('a→b', options.transform);
  const b = new MemoryLink('b→a', options.transform);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
