/**
 * The session core both sides run (docs/tether-protocol.md §4–§8): handshake, sequence and seal
 * checks, the credit window with delayed acks, control-message fragmentation and tags, the bulk
 * stream, heartbeat and reset. host-session.ts and device-session.ts wrap it into the public API.
 *
 * Fail closed: every violation ends the session through end(), which sends RESET, closes the link
 * and rejects everything pending with the violation's TetherError. Nothing resynchronises.
 */
import { TetherError, isErrorCode, toTetherError, type ErrorCode } from '../../common/errors';
import type {
  DeviceHandlers,
  Feature,
  NegotiatedParameters,
  PairingMethod,
  SessionOptions,
  SessionState,
  SessionTimers,
} from './api';
import { decodeBody, encodeBody, Reader, utf8Prefix, Writer, type Codec } from './codec';
import { Channel, FRAME_HEADER_SIZE, FrameFlag, FrameType, decodeFrame, encodeFrame, type Frame } from './frame';
import {
  commitment,
  deriveSessionKeys,
  makeEphemeralKey,
  openFrame,
  sameBytes,
  sealFrame,
  TAG_SIZE,
  transcriptHash,
  type DirectionKeys,
} from './handshake';
import { proofMessage, verifyEd25519, type HostPairingKeys, type PhonePairingKeys } from './known-peers';
import type { FrameLink } from './link';
import {
  BULK_HEADER_SIZE,
  EVENT_SCHEMAS,
  OPERATION_SCHEMAS,
  errorReplyCodec,
  helloCodec,
  keyCodec,
  pairAnswerCodec,
  pairCodec,
  resetCodec,
  welcomeCodec,
} from './message-schemas';
import {
  EVENT_CODES,
  OPERATION_CODES,
  PAIRED_ONLY_OPERATIONS,
  type BulkChunk,
  type DeviceIdentity,
  type EventName,
  type Events,
  type OperationName,
  type OperationReply,
  type OperationRequest,
} from './messages';
import { realTimers } from './timers';

export const PROTOCOL_VERSIONS: readonly number[] = [1];
export const ALL_FEATURES: readonly Feature[] = ['bulk-firmware', 'events'];
/** Payload limit before the handshake has negotiated one. */
export const HANDSHAKE_MAX_PAYLOAD = 4096;
export const MIN_MAX_PAYLOAD = 1024;
export const MAX_MAX_PAYLOAD = 1024 * 1024;
/**
 * Defaults (§5.2, §12): frames of up to 1 MiB and a window of 16 of them (16 MiB of credit), so a
 * firmware push is a few large USB transfers with megabytes queued on the bus: per-frame costs (a
 * cipher set-up, a transfer, a promise) shrink 16-fold against 64 KiB frames, and a sender that
 * the OS deschedules for tens of milliseconds finds the bus still busy when it runs again.
 */
export const DEFAULT_MAX_PAYLOAD = MAX_MAX_PAYLOAD;
export const DEFAULT_WINDOW = 16;
/** Frames of an earlier session a host skips while it awaits WELCOME before it gives up (§4.4). */
export const STALE_FRAME_LIMIT = 64;
export const MAX_WINDOW = 4096;
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Requests the phone handles at once; more get PROTOCOL_BUSY. */
export const MAX_OUTSTANDING_REQUESTS = 16;
/** link.send() calls in flight at once, so the bus never idles between transfers. */
export const MAX_SENDS_IN_FLIGHT = 4;
const CONTROL_HEADER_SIZE = 6;
const MAX_ABANDONED_TAGS = 1024;

const enum Kind {
  REQUEST = 1,
  REPLY = 2,
  ERROR = 3,
  EVENT = 4,
}

const OPERATION_BY_CODE = new Map<number, OperationName>(
  (Object.entries(OPERATION_CODES) as Array<[OperationName, number]>).map(([name, code]) => [code, name]),
);
const EVENT_BY_CODE = new Map<number, EventName>(
  (Object.entries(EVENT_CODES) as Array<[EventName, number]>).map(([name, code]) => [code, name]),
);

/** Internal handle so tests can reach the core behind a public session object. */
export const CORE: unique symbol = Symbol('tether.session.core');

type Role = 'host' | 'device';

interface Outgoing {
  readonly type: FrameType;
  flags: number;
  readonly channel: Channel;
  readonly parts: readonly Uint8Array[];
  /** Called when the frame has been sealed and handed to the link. */
  readonly sent?: () => void;
  /** Called if the session ends before the frame was sent. */
  readonly dropped?: (error: TetherError) => void;
  /** Zero these buffers once sealed (they held a secret). */
  readonly wipe?: readonly Uint8Array[];
}

interface PendingCall {
  readonly op: OperationName;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: TetherError) => void;
  readonly timer: unknown;
}

export interface DeviceRoleOptions {
  readonly identity: DeviceIdentity;
  readonly handlers: Partial<DeviceHandlers>;
  readonly onBulk?: (chunk: BulkChunk) => Promise<void>;
  readonly showSas?: (sas: string) => void;
  readonly onPaired?: (method: PairingMethod) => void;
  readonly pairingKeys?: PhonePairingKeys;
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TetherError('BAD_INPUT', `${name} must be an integer in ${min}..${max}.`, { detail: { option: name, value } });
  }
  return value;
}

function violation(code: ErrorCode, message?: string, detail?: Record<string, string | number | boolean | null>): TetherError {
  return new TetherError(code, message, detail === undefined ? undefined : { detail });
}

/** The RESET code to send for an error, or null when there is nobody to tell (peer reset, link gone). */
function resetCodeFor(error: TetherError): string | null {
  return error.code === 'PROTOCOL_PEER_RESET' || error.code === 'PROTOCOL_LINK_CLOSED' ? null : error.code;
}

function ignore(): void {
  // Fire-and-forget sends: the session's end() already reports the failure.
}

const ACCEPTED_BEFORE_OPEN: Readonly<Record<string, readonly FrameType[]>> = {
  'host:welcome': [FrameType.WELCOME],
  'host:ready': [FrameType.READY],
  'device:hello': [FrameType.HELLO],
  'device:key': [FrameType.KEY],
  'host:pair-answer': [FrameType.PAIR_ANSWER],
  'device:pair': [FrameType.PAIR],
};

/** Handshake frames that are sealed: their ack is authenticated and taken by applyAck. */
const SEALED_HANDSHAKE: ReadonlySet<number> = new Set([FrameType.READY, FrameType.PAIR, FrameType.PAIR_ANSWER]);

export class SessionCore {
  state: SessionState = 'handshake';
  paired = false;
  identity: DeviceIdentity | undefined;
  sas = '';
  /** §5.7: `known-host` once both sides proved their remembered keys at open(). */
  pairingMethod: PairingMethod = 'code';
  /** Host: the phone's key is in the host's pairing store (§5.7). */
  remembered = false;
  negotiated: NegotiatedParameters | undefined;
  /** Frames of an earlier session skipped while awaiting WELCOME (§4.4). */
  staleFramesSkipped = 0;
  readonly closed: Promise<TetherError | null>;

  private readonly timers: SessionTimers;
  private readonly ownMaxPayload: number;
  private readonly ownWindow: number;
  private readonly versions: readonly number[];
  private readonly features: readonly Feature[];
  private readonly handshakeTimeoutMs: number;
  private heartbeatIntervalMs: number;
  private heartbeatTimeoutMs: number | undefined;
  private readonly maxMessageBytes: number;

  private resolveClosed!: (value: TetherError | null) => void;
  private ended = false;
  private endError: TetherError | null = null;

  // sequence numbers (frames) and keys
  private sendSeq = 0;
  private recvSeq = 0;
  private sendKeys: DirectionKeys | undefined;
  private recvKeys: DirectionKeys | undefined;
  private recvMaxPayload = HANDSHAKE_MAX_PAYLOAD;
  private maxPayload = HANDSHAKE_MAX_PAYLOAD;
  private sendWindow = 1;
  /** T of §5.3, kept for the known-host proofs of §5.7. */
  private transcript: Uint8Array | undefined;
  /** §5.7: the peer's long-term key from PAIR / PAIR_ANSWER, remembered once the code is confirmed. */
  private peerPairingKey: Uint8Array | null = null;
  private readonly hostPairing: HostPairingKeys | undefined;

  // credit (unwrapped counters; the wire carries them mod 2^32)
  private dataSent = 0;
  private peerAcked = 0;
  private dataReceived = 0;
  private consumed = 0;
  private lastAckSent = 0;
  private ackRequestAt: number | null = null;
  private ackQueued = false;
  private ackThreshold = 1;
  /** flush() found frames still queued: the last of them asks for an ack. */
  private requestAckAfterQueue = false;

  // send queues
  private readonly urgent: Outgoing[] = [];
  private readonly controlQueue: Outgoing[] = [];
  private readonly bulkQueue: Outgoing[] = [];
  private sendsInFlight = 0;
  private flushWaiters: Array<{ target: number; resolve: () => void; reject: (e: TetherError) => void }> = [];

  // control reassembly
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;

  // host: calls and events
  private nextTag = 0;
  private readonly pending = new Map<number, PendingCall>();
  /** Tags of calls that timed out, with their operation, so a late answer is still checked. */
  private readonly abandoned = new Map<number, OperationName>();
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();
  private confirmWaiter: { promise: Promise<void>; resolve: () => void; reject: (e: TetherError) => void } | undefined;

  // device: requests in progress and the bulk stream
  private readonly inProgress = new Set<number>();
  private readonly bulkInbox: BulkChunk[] = [];
  private bulkRunning = false;

  // timers
  private handshakeTimer: unknown;
  private livenessTimer: unknown;
  private pingTimer: unknown;

  constructor(
    private readonly role: Role,
    private readonly link: FrameLink,
    options: SessionOptions & { readonly pairingKeys?: HostPairingKeys },
    private readonly device?: DeviceRoleOptions,
  ) {
    this.hostPairing = role === 'host' ? options.pairingKeys : undefined;
    this.timers = options.timers ?? realTimers;
    this.ownMaxPayload = checkRange('maxPayload', options.maxPayload ?? DEFAULT_MAX_PAYLOAD, MIN_MAX_PAYLOAD, MAX_MAX_PAYLOAD);
    this.ownWindow = checkRange('window', options.window ?? DEFAULT_WINDOW, 1, MAX_WINDOW);
    this.versions = options.versions ?? PROTOCOL_VERSIONS;
    if (this.versions.length === 0 || this.versions.length > 16) throw new TetherError('BAD_INPUT', 'versions must list 1–16 versions.');
    this.versions.forEach((v) => checkRange('versions[]', v, 1, 255));
    // `known-host` is announced only by a side that holds long-term keys (§5.7).
    const pairing = role === 'host' ? this.hostPairing : device?.pairingKeys;
    const features = options.features ?? (pairing ? [...ALL_FEATURES, 'known-host' as const] : ALL_FEATURES);
    this.features = pairing ? features : features.filter((f) => f !== 'known-host');
    this.handshakeTimeoutMs = checkRange('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000, 1, 3_600_000);
    this.heartbeatIntervalMs = checkRange('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 2000, 100, 600_000);
    this.heartbeatTimeoutMs =
      options.heartbeatTimeoutMs === undefined ? undefined : checkRange('heartbeatTimeoutMs', options.heartbeatTimeoutMs, 1, 3_600_000);
    this.maxMessageBytes = checkRange('maxMessageBytes', options.maxMessageBytes ?? MAX_MESSAGE_BYTES, 1024, MAX_MESSAGE_BYTES);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  // ------------------------------------------------------------------------------------------
  // Handshake
  // ------------------------------------------------------------------------------------------

  /** Runs the handshake; resolves when the session is open. On failure the session has ended. */
  async open(): Promise<void> {
    this.handshakeTimer = this.timers.setTimeout(
      () => this.end(violation('PROTOCOL_HANDSHAKE_TIMEOUT'), 'PROTOCOL_HANDSHAKE_TIMEOUT'),
      this.handshakeTimeoutMs,
    );
    try {
      if (this.role === 'host') await this.hostHandshake();
      else await this.deviceHandshake();
    } catch (err) {
      const error = toTetherError(err);
      this.end(error, resetCodeFor(error));
      await this.closed; // the link is released before the caller hears of the failure
      throw this.endError ?? error;
    } finally {
      this.timers.clearTimeout(this.handshakeTimer);
    }
    if (this.ended) {
      await this.closed;
      throw this.endError ?? violation('PROTOCOL_SESSION_CLOSED');
    }
    this.state = 'open';
    this.recvMaxPayload = this.maxPayload;
    this.ackThreshold = Math.max(1, Math.floor(this.ownWindow / 4));
    this.armLiveness();
    if (this.role === 'host') this.schedulePing();
    void this.receiveLoop();
  }

  private async hostHandshake(): Promise<void> {
    const eph = makeEphemeralKey();
    const hello = encodeBody(helloCodec, {
      versions: this.versions,
      maxPayload: this.ownMaxPayload,
      window: this.ownWindow,
      heartbeatMs: this.heartbeatIntervalMs,
      features: this.features,
      commitment: commitment(eph.publicKey, eph.nonce),
    });
    await this.sendPlain(FrameType.HELLO, hello);
    const welcomeFrame = await this.receiveHandshake('host:welcome');
    const welcome = decodeBody(welcomeCodec, welcomeFrame.payload);
    if (!this.versions.includes(welcome.version)) {
      throw violation('PROTOCOL_HANDSHAKE_FAILED', 'The phone chose a protocol version Tether did not offer.', { version: welcome.version });
    }
    this.applyLimits(welcome.maxPayload, welcome.window, welcome.features, welcome.version);
    this.identity = welcome.identity;
    const key = encodeBody(keyCodec, { publicKey: eph.publicKey, nonce: eph.nonce });
    this.transcript = transcriptHash(hello, welcomeFrame.payload, key);
    const keys = deriveSessionKeys(eph, welcome.publicKey, this.transcript);
    this.sendKeys = keys.hostToPhone;
    this.recvKeys = keys.phoneToHost;
    this.sas = keys.sas;
    await this.sendPlain(FrameType.KEY, key);
    const ready = await this.receiveHandshake('host:ready');
    if (openFrame(this.recvKeys, ready.raw, ready.seq).length !== 0) {
      throw violation('PROTOCOL_BAD_MESSAGE', 'READY frames carry no payload.');
    }
    this.applyAck(ready.ack);
    if (this.hostPairing && this.negotiated?.features.includes('known-host')) await this.hostPair(this.hostPairing, welcome.identity.serial);
  }

  /**
   * §5.7, host: PAIR with this PC's key (and a proof over T when it remembers this phone), then
   * the phone's PAIR_ANSWER. Only a valid proof by the very key remembered for this serial pairs
   * the session; no proof means code pairing; anything else is a violation.
   */
  private async hostPair(store: HostPairingKeys, serial: string): Promise<void> {
    const transcript = this.transcript!;
    const remembered = store.phoneKey(serial);
    const proof = remembered === null ? null : store.sign(proofMessage('host', transcript));
    await this.link.send(this.seal({ type: FrameType.PAIR, flags: 0, channel: Channel.CONTROL, parts: [encodeBody(pairCodec, { hostKey: store.publicKey, proof })] }));
    const frame = await this.receiveHandshake('host:pair-answer');
    const answer = decodeBody(pairAnswerCodec, openFrame(this.recvKeys!, frame.raw, frame.seq));
    this.applyAck(frame.ack);
    if (answer.proof === null) {
      this.peerPairingKey = answer.phoneKey;
      return;
    }
    if (remembered === null) throw violation('PROTOCOL_PAIRING_PROOF_INVALID', 'The phone answered with a proof Tether did not ask for.');
    if (!sameBytes(answer.phoneKey, remembered)) {
      throw violation('PROTOCOL_PAIRING_PROOF_INVALID', 'The phone’s long-term key is not the one remembered for its serial.');
    }
    if (!verifyEd25519(answer.phoneKey, proofMessage('phone', transcript), answer.proof)) {
      throw violation('PROTOCOL_PAIRING_PROOF_INVALID', 'The phone’s proof does not verify for this session.');
    }
    this.paired = true;
    this.pairingMethod = 'known-host';
    this.remembered = true;
  }

  private async deviceHandshake(): Promise<void> {
    const device = this.device!;
    const helloFrame = await this.receiveHandshake('device:hello');
    const hello = decodeBody(helloCodec, helloFrame.payload);
    // A new host: what an earlier session left unread must not reach it before WELCOME (§4.4).
    this.link.discardUnsent?.();
    const common = hello.versions.filter((v) => this.versions.includes(v));
    if (common.length === 0) {
      throw violation('PROTOCOL_VERSION_UNSUPPORTED', undefined, { offered: hello.versions.join(',') });
    }
    const version = Math.max(...common);
    if (!Number.isInteger(hello.heartbeatMs) || hello.heartbeatMs < 100 || hello.heartbeatMs > 600_000) {
      throw violation('PROTOCOL_HANDSHAKE_FAILED', 'The host announced a heartbeat period out of range.', { heartbeatMs: hello.heartbeatMs });
    }
    this.heartbeatIntervalMs = hello.heartbeatMs;
    this.applyLimits(hello.maxPayload, hello.window, hello.features, version);
    const eph = makeEphemeralKey();
    const welcome = encodeBody(welcomeCodec, {
      version,
      maxPayload: this.ownMaxPayload,
      window: this.ownWindow,
      features: this.features,
      identity: device.identity,
      publicKey: eph.publicKey,
      nonce: eph.nonce,
    });
    await this.sendPlain(FrameType.WELCOME, welcome);
    const keyFrame = await this.receiveHandshake('device:key');
    const key = decodeBody(keyCodec, keyFrame.payload);
    if (!sameBytes(commitment(key.publicKey, key.nonce), hello.commitment)) {
      throw violation('PROTOCOL_HANDSHAKE_FAILED', 'The host’s key does not match its commitment.');
    }
    this.transcript = transcriptHash(helloFrame.payload, welcome, keyFrame.payload);
    const keys = deriveSessionKeys(eph, key.publicKey, this.transcript);
    this.sendKeys = keys.phoneToHost;
    this.recvKeys = keys.hostToPhone;
    this.sas = keys.sas;
    this.identity = device.identity;
    const knownHost = device.pairingKeys !== undefined && this.negotiated?.features.includes('known-host') === true;
    // With `known-host` the code is shown only once PAIR says the host is not recognised (§5.7).
    if (!knownHost) device.showSas?.(keys.sas);
    await this.link.send(this.seal({ type: FrameType.READY, flags: 0, channel: Channel.CONTROL, parts: [] }));
    if (knownHost) await this.devicePair(device.pairingKeys!, device);
  }

  /**
   * §5.7, phone: a proof from a remembered host key pairs the session (the phone answers with its
   * own proof); a host key it does not know, or no proof, means code pairing; a remembered key
   * whose proof fails (forged, replayed from another session) is a violation.
   */
  private async devicePair(store: PhonePairingKeys, device: DeviceRoleOptions): Promise<void> {
    const transcript = this.transcript!;
    const frame = await this.receiveHandshake('device:pair');
    const request = decodeBody(pairCodec, openFrame(this.recvKeys!, frame.raw, frame.seq));
    this.applyAck(frame.ack);
    let proof: Uint8Array | null = null;
    if (request.proof !== null && store.knows(request.hostKey)) {
      if (!verifyEd25519(request.hostKey, proofMessage('host', transcript), request.proof)) {
        throw violation('PROTOCOL_PAIRING_PROOF_INVALID', 'The PC’s proof does not verify for this session.');
      }
      proof = store.sign(proofMessage('phone', transcript));
    } else {
      this.peerPairingKey = request.hostKey;
      device.showSas?.(this.sas);
    }
    await this.link.send(this.seal({ type: FrameType.PAIR_ANSWER, flags: 0, channel: Channel.CONTROL, parts: [encodeBody(pairAnswerCodec, { phoneKey: store.publicKey, proof })] }));
    if (proof === null) return;
    this.paired = true;
    this.pairingMethod = 'known-host';
    store.used?.(request.hostKey);
    try {
      device.onPaired?.('known-host');
    } catch {
      // The phone's UI callback must not break the session.
    }
  }

  /** Takes the peer's announced limits; the negotiated payload limit is the smaller of both. */
  private applyLimits(peerMaxPayload: number, peerWindow: number, peerFeatures: readonly string[], version: number): void {
    if (peerMaxPayload < MIN_MAX_PAYLOAD || peerMaxPayload > MAX_MAX_PAYLOAD) {
      throw violation('PROTOCOL_HANDSHAKE_FAILED', 'The peer announced a max payload out of range.', { maxPayload: peerMaxPayload });
    }
    if (peerWindow < 1 || peerWindow > MAX_WINDOW) {
      throw violation('PROTOCOL_HANDSHAKE_FAILED', 'The peer announced a window out of range.', { window: peerWindow });
    }
    this.maxPayload = Math.min(this.ownMaxPayload, peerMaxPayload);
    this.sendWindow = peerWindow;
    const features = this.features.filter((f) => peerFeatures.includes(f));
    this.negotiated = {
      version,
      maxPayload: this.maxPayload,
      sendWindow: peerWindow,
      receiveWindow: this.ownWindow,
      features,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
    };
  }

  private async sendPlain(type: FrameType, payload: Uint8Array): Promise<void> {
    const frame = encodeFrame({ type, flags: 0, channel: Channel.CONTROL, seq: this.sendSeq++, ack: 0 }, payload);
    await this.link.send(frame);
  }

  private async receiveHandshake(expect: keyof typeof ACCEPTED_BEFORE_OPEN): Promise<Frame> {
    let frame: Frame;
    for (;;) {
      frame = await this.receiveHandshakeFrame(expect);
      if (!this.isStale(expect, frame)) break;
      // A leftover of the phone's previous session (§4.4): never looked at beyond its header.
      if (++this.staleFramesSkipped > STALE_FRAME_LIMIT) {
        throw violation('PROTOCOL_BAD_SEQUENCE', 'Too many frames of an earlier session before the phone’s WELCOME.', {
          skipped: this.staleFramesSkipped - 1,
          limit: STALE_FRAME_LIMIT,
        });
      }
    }
    if (frame.type === FrameType.RESET) throw this.peerReset(frame);
    this.checkSeq(frame);
    if (!ACCEPTED_BEFORE_OPEN[expect]!.includes(frame.type)) {
      throw violation('PROTOCOL_UNEXPECTED_FRAME', undefined, { type: frame.type, state: expect });
    }
    // Unsealed handshake frames carry ack 0 (§2.1); a sealed one's ack is authenticated and checked by applyAck.
    if (!SEALED_HANDSHAKE.has(frame.type) && frame.ack !== 0) throw violation('PROTOCOL_BAD_ACK', undefined, { ack: frame.ack, sent: 0 });
    return frame;
  }

  /**
   * Reads one handshake frame. While the host awaits WELCOME, a frame may be a leftover of the
   * phone's previous session, as long as any it could have queued, so the read takes frames up to
   * the largest payload; a frame of the new session (seq 0) still has the handshake limit.
   */
  private async receiveHandshakeFrame(expect: keyof typeof ACCEPTED_BEFORE_OPEN): Promise<Frame> {
    const max = expect === 'host:welcome' ? MAX_MAX_PAYLOAD + TAG_SIZE : HANDSHAKE_MAX_PAYLOAD;
    const bytes = await this.link.receive(FRAME_HEADER_SIZE + max);
    if (this.ended) throw this.endError ?? violation('PROTOCOL_SESSION_CLOSED');
    const frame = decodeFrame(bytes, max);
    if (frame.seq === 0 && frame.payload.length > HANDSHAKE_MAX_PAYLOAD) {
      throw violation('PROTOCOL_OVERSIZE', undefined, { length: frame.payload.length, maxPayload: HANDSHAKE_MAX_PAYLOAD });
    }
    return frame;
  }

  /**
   * §4.4: in AWAIT_WELCOME every frame of the phone's new session has seq 0 (WELCOME, or a RESET
   * sent before it), so a well-formed frame with another seq can only be left from an earlier
   * session in the phone's IN pipe. Garbage already failed in decodeFrame.
   */
  private isStale(expect: keyof typeof ACCEPTED_BEFORE_OPEN, frame: Frame): boolean {
    return expect === 'host:welcome' && this.recvSeq === 0 && frame.seq !== 0;
  }

  private checkSeq(frame: Frame): void {
    if (frame.seq !== this.recvSeq >>> 0) {
      throw violation('PROTOCOL_BAD_SEQUENCE', undefined, { expected: this.recvSeq >>> 0, received: frame.seq });
    }
    this.recvSeq++;
  }

  private peerReset(frame: Frame): TetherError {
    let peerCode = 'unknown';
    try {
      peerCode = decodeBody(resetCodec, frame.payload).code;
    } catch {
      // A RESET ends the session whatever its payload says.
    }
    return new TetherError('PROTOCOL_PEER_RESET', undefined, { detail: { peerCode } });
  }

  // ------------------------------------------------------------------------------------------
  // Receiving (open state)
  // ------------------------------------------------------------------------------------------

  private async receiveLoop(): Promise<void> {
    try {
      while (!this.ended) {
        const bytes = await this.link.receive(FRAME_HEADER_SIZE + this.recvMaxPayload);
        if (this.ended) return;
        this.onFrame(bytes);
      }
    } catch (err) {
      const error = toTetherError(err);
      this.end(error, resetCodeFor(error));
    }
  }

  /** Handles one received transfer; throws (ending the session in receiveLoop) on any violation. */
  onFrame(bytes: Uint8Array): void {
    const frame = decodeFrame(bytes, this.recvMaxPayload);
    if (frame.type === FrameType.RESET) {
      const error = this.peerReset(frame);
      this.end(error, null);
      return;
    }
    if (this.role === 'device' && frame.type === FrameType.HELLO && frame.seq === 0 && this.link.putBack !== undefined) {
      // §4.4: a new host (the old one vanished without RESET). This session ends without a RESET
      // (nobody is left to read it) and the HELLO goes to the phone's next session, which starts
      // from nothing: no seq, key or pairing of this one carries over.
      this.link.putBack(bytes);
      this.end(new TetherError('PROTOCOL_PEER_RESET', 'A new host session began (HELLO).', { detail: { peerCode: 'NEW_SESSION' } }), null);
      return;
    }
    this.checkSeq(frame);
    const allowed =
      frame.type === FrameType.DATA ||
      frame.type === FrameType.ACK ||
      frame.type === FrameType.PING ||
      frame.type === FrameType.PONG ||
      (frame.type === FrameType.CONFIRM && (this.role === 'device' ? !this.paired : this.confirmWaiter !== undefined && !this.paired));
    if (!allowed) throw violation('PROTOCOL_UNEXPECTED_FRAME', undefined, { type: frame.type, state: 'open' });
    const plain = openFrame(this.recvKeys!, frame.raw, frame.seq);
    this.applyAck(frame.ack);
    this.armLiveness();
    switch (frame.type) {
      case FrameType.DATA:
        this.dataReceived++;
        if (this.dataReceived - this.lastAckSent > this.ownWindow) {
          throw violation('PROTOCOL_WINDOW_EXCEEDED', undefined, { window: this.ownWindow });
        }
        if ((frame.flags & FrameFlag.ACK_REQUEST) !== 0) this.ackRequestAt = this.dataReceived;
        if (frame.channel === Channel.BULK) this.onBulkFrame(plain);
        else this.onControlFragment(plain, (frame.flags & FrameFlag.MORE) !== 0);
        break;
      case FrameType.ACK:
        if (plain.length !== 0) throw violation('PROTOCOL_BAD_MESSAGE', 'ACK frames carry no payload.');
        if ((frame.flags & FrameFlag.ACK_REQUEST) !== 0) {
          this.ackRequestAt = this.dataReceived;
          this.maybeAck();
        }
        break;
      case FrameType.PING:
        if (plain.length !== 0) throw violation('PROTOCOL_BAD_MESSAGE', 'PING frames carry no payload.');
        this.enqueue(this.urgent, { type: FrameType.PONG, flags: 0, channel: Channel.CONTROL, parts: [] });
        break;
      case FrameType.PONG:
        if (plain.length !== 0) throw violation('PROTOCOL_BAD_MESSAGE', 'PONG frames carry no payload.');
        break;
      case FrameType.CONFIRM:
        if (plain.length !== 0) throw violation('PROTOCOL_BAD_MESSAGE', 'CONFIRM frames carry no payload.');
        this.paired = true;
        if (this.role === 'device') {
          this.enqueue(this.urgent, { type: FrameType.CONFIRM, flags: 0, channel: Channel.CONTROL, parts: [] });
          // §5.7: the user compared the codes, so the host key of PAIR is this session's peer.
          if (this.peerPairingKey) this.device?.pairingKeys?.remember(this.peerPairingKey);
          try {
            this.device?.onPaired?.('code');
          } catch {
            // The phone's UI callback must not break the session.
          }
        } else {
          void this.rememberPhone().then(() => this.confirmWaiter?.resolve());
        }
        break;
      default:
        throw violation('PROTOCOL_UNEXPECTED_FRAME', undefined, { type: frame.type });
    }
  }

  /** Checks and takes the peer's cumulative ack (mod 2^32). */
  private applyAck(ack: number): void {
    const delta = (ack - this.peerAcked) >>> 0;
    if (delta === 0) return;
    if (delta > this.dataSent - this.peerAcked) {
      throw violation('PROTOCOL_BAD_ACK', undefined, { ack, sent: this.dataSent >>> 0 });
    }
    this.peerAcked += delta;
    if (this.flushWaiters.length > 0) {
      const still: typeof this.flushWaiters = [];
      for (const w of this.flushWaiters) {
        if (this.peerAcked >= w.target) w.resolve();
        else still.push(w);
      }
      this.flushWaiters = still;
    }
    this.pump();
  }

  private onControlFragment(plain: Uint8Array, more: boolean): void {
    this.fragmentBytes += plain.length;
    if (this.fragmentBytes > this.maxMessageBytes) {
      throw violation('PROTOCOL_MESSAGE_TOO_LARGE', undefined, { limit: this.maxMessageBytes });
    }
    this.fragments.push(plain);
    this.consumedOne();
    if (more) return;
    const message = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
    // A message may hold a secret (credentials): leave no stray plaintext copy behind.
    if (this.fragments.length > 1) for (const f of this.fragments) f.fill(0);
    this.fragments = [];
    this.fragmentBytes = 0;
    this.onControlMessage(message);
  }

  private onControlMessage(message: Uint8Array): void {
    if (message.length < CONTROL_HEADER_SIZE) throw violation('PROTOCOL_BAD_MESSAGE', 'Control message shorter than its header.');
    const r = new Reader(message);
    const kind = r.u8('kind');
    const code = r.u8('code');
    const tag = r.u32('tag');
    const body = message.subarray(CONTROL_HEADER_SIZE);
    if (this.role === 'device') {
      if (kind !== Kind.REQUEST) throw violation('PROTOCOL_BAD_MESSAGE', 'The phone accepts only requests.', { kind });
      this.onRequest(code, tag, body);
      return;
    }
    if (kind === Kind.REPLY || kind === Kind.ERROR) this.onReply(kind, code, tag, body);
    else if (kind === Kind.EVENT) this.onEvent(code, tag, body);
    else throw violation('PROTOCOL_BAD_MESSAGE', 'The host accepts only replies and events.', { kind });
  }

  // ------------------------------------------------------------------------------------------
  // Host: calls, replies, events, pairing, bulk
  // ------------------------------------------------------------------------------------------

  call<K extends OperationName>(op: K, request: OperationRequest<K>, timeoutMs = 30_000): Promise<OperationReply<K>> {
    if (this.ended) return Promise.reject(this.closedError());
    if (PAIRED_ONLY_OPERATIONS.has(op) && !this.paired) {
      return Promise.reject(new TetherError('PROTOCOL_NOT_PAIRED', undefined, { detail: { operation: op } }));
    }
    return this.sendRequest(op, request, timeoutMs);
  }

  /** Sends a request without the host's pairing check (the phone's own check is tested through this). */
  sendRequest<K extends OperationName>(op: K, request: OperationRequest<K>, timeoutMs = 30_000): Promise<OperationReply<K>> {
    if (this.ended) return Promise.reject(this.closedError());
    const schema = OPERATION_SCHEMAS[op];
    if (schema === undefined) return Promise.reject(new TetherError('BAD_INPUT', `Unknown operation ${String(op)}.`));
    // Node turns a timer beyond 2^31−1 ms (or NaN) into 1 ms: refuse it rather than time out at once.
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 0x7fff_ffff) {
      return Promise.reject(new TetherError('BAD_INPUT', 'timeoutMs must be an integer in 1..2147483647.', { detail: { option: 'timeoutMs', value: String(timeoutMs) } }));
    }
    const tag = this.allocateTag();
    let message: Uint8Array;
    try {
      message = this.encodeControl(Kind.REQUEST, OPERATION_CODES[op], tag, schema.request as Codec<OperationRequest<K>>, request);
    } catch (err) {
      return Promise.reject(toTetherError(err));
    }
    return new Promise<OperationReply<K>>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        if (!this.pending.delete(tag)) return;
        this.abandon(tag, op);
        reject(new TetherError('PROTOCOL_CALL_TIMEOUT', undefined, { detail: { operation: op, timeoutMs } }));
      }, timeoutMs);
      this.pending.set(tag, { op, resolve: resolve as (reply: unknown) => void, reject, timer });
      // Requests that carry secrets are zeroed once sealed.
      this.sendControl(message, op === 'credentials').catch(ignore);
    });
  }

  private allocateTag(): number {
    do this.nextTag = (this.nextTag % 0xffff_ffff) + 1;
    while (this.pending.has(this.nextTag) || this.abandoned.has(this.nextTag));
    return this.nextTag;
  }

  private abandon(tag: number, op: OperationName): void {
    this.abandoned.set(tag, op);
    if (this.abandoned.size > MAX_ABANDONED_TAGS) {
      const oldest = this.abandoned.keys().next().value;
      if (oldest !== undefined) this.abandoned.delete(oldest);
    }
  }

  private onReply(kind: Kind, code: number, tag: number, body: Uint8Array): void {
    const call = this.pending.get(tag);
    const op = call?.op ?? this.abandoned.get(tag);
    if (op === undefined) throw violation('PROTOCOL_UNKNOWN_TAG', undefined, { tag });
    if (code !== OPERATION_CODES[op]) {
      throw violation('PROTOCOL_BAD_MESSAGE', 'A reply names another operation than its request.', { tag, code });
    }
    let outcome: { ok: true; value: unknown } | { ok: false; error: TetherError };
    if (kind === Kind.REPLY) {
      outcome = { ok: true, value: decodeBody(OPERATION_SCHEMAS[op].reply as Codec<unknown>, body) };
    } else {
      const reply = decodeBody(errorReplyCodec, body);
      const error = isErrorCode(reply.code)
        ? new TetherError(reply.code, reply.message || undefined, { detail: { operation: op } })
        : new TetherError('PROTOCOL_REMOTE_ERROR', reply.message || undefined, { detail: { operation: op, remoteCode: reply.code } });
      outcome = { ok: false, error };
    }
    if (call === undefined) {
      this.abandoned.delete(tag); // a late answer to a call that timed out: checked like any reply, then dropped
      return;
    }
    this.pending.delete(tag);
    this.timers.clearTimeout(call.timer);
    if (outcome.ok) call.resolve(outcome.value);
    else call.reject(outcome.error);
  }

  private onEvent(code: number, tag: number, body: Uint8Array): void {
    const name = EVENT_BY_CODE.get(code);
    if (name === undefined) throw violation('PROTOCOL_BAD_MESSAGE', 'Unknown event code.', { code });
    if (tag !== 0) throw violation('PROTOCOL_BAD_MESSAGE', 'Events carry tag 0.', { tag });
    const payload = decodeBody(EVENT_SCHEMAS[name] as Codec<unknown>, body);
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        (listener as (p: unknown) => void)(payload);
      } catch {
        // A listener's bug must not reset the USB session.
      }
    }
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** §5.7: after a confirmed code pairing the host keeps the phone's key; a failed save only costs a code next time. */
  private async rememberPhone(): Promise<void> {
    if (!this.hostPairing || !this.peerPairingKey || !this.identity) return;
    try {
      await this.hostPairing.remember(this.identity.serial, this.peerPairingKey);
      this.remembered = true;
    } catch {
      this.remembered = false;
    }
  }

  confirmPairing(): Promise<void> {
    if (this.ended) return Promise.reject(this.closedError());
    if (this.paired) return Promise.resolve();
    if (this.confirmWaiter === undefined) {
      let resolve!: () => void;
      let reject!: (e: TetherError) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.confirmWaiter = { promise, resolve, reject };
      this.enqueue(this.urgent, { type: FrameType.CONFIRM, flags: 0, channel: Channel.CONTROL, parts: [] });
    }
    return this.confirmWaiter.promise;
  }

  /** Bulk chunk capacity of one frame. */
  get bulkChunkSize(): number {
    return this.maxPayload - TAG_SIZE - BULK_HEADER_SIZE;
  }

  writeBulk(transferId: number, offset: number, data: Uint8Array): Promise<void> {
    if (this.ended) return Promise.reject(this.closedError());
    if (!this.negotiated?.features.includes('bulk-firmware')) {
      return Promise.reject(new TetherError('PROTOCOL_UNSUPPORTED_OPERATION', 'The phone did not announce bulk firmware transfer.'));
    }
    if (!Number.isInteger(transferId) || transferId < 1 || transferId > 0xffff_ffff) {
      return Promise.reject(new TetherError('BAD_INPUT', 'transferId must be a u32 above 0.'));
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + data.length > 0xffff_ffff) {
      return Promise.reject(new TetherError('BAD_INPUT', 'offset and length must stay within 4 GiB.'));
    }
    if (data.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const chunk = this.bulkChunkSize;
      for (let at = 0; at < data.length; at += chunk) {
        const header = new Uint8Array(BULK_HEADER_SIZE);
        const view = new DataView(header.buffer);
        const pos = offset + at;
        view.setUint32(0, transferId, true);
        view.setUint32(4, pos % 0x1_0000_0000, true);
        view.setUint32(8, Math.floor(pos / 0x1_0000_0000), true);
        const last = at + chunk >= data.length;
        this.bulkQueue.push({
          type: FrameType.DATA,
          flags: 0,
          channel: Channel.BULK,
          parts: [header, data.subarray(at, Math.min(data.length, at + chunk))],
          ...(last ? { sent: resolve, dropped: reject } : {}),
        });
      }
      this.pump();
    });
  }

  /** Resolves when the peer has consumed every DATA frame sent so far. */
  flush(): Promise<void> {
    if (this.ended) return Promise.reject(this.closedError());
    const queued = this.controlQueue.length + this.bulkQueue.length;
    const target = this.dataSent + queued;
    if (this.peerAcked >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.flushWaiters.push({ target, resolve, reject });
      // Frames still queued get ACK_REQUEST when they fill the window; ask for an ack after the rest.
      if (queued === 0) this.enqueue(this.urgent, { type: FrameType.ACK, flags: FrameFlag.ACK_REQUEST, channel: Channel.CONTROL, parts: [] });
      else this.requestAckAfterQueue = true;
    });
  }

  // ------------------------------------------------------------------------------------------
  // Device: requests, events, bulk
  // ------------------------------------------------------------------------------------------

  private onRequest(code: number, tag: number, body: Uint8Array): void {
    if (tag === 0 || this.inProgress.has(tag)) throw violation('PROTOCOL_UNKNOWN_TAG', 'A request reused a tag in progress.', { tag });
    const op = OPERATION_BY_CODE.get(code);
    if (op === undefined) {
      this.sendError(code, tag, new TetherError('PROTOCOL_UNSUPPORTED_OPERATION', undefined, { detail: { code } }));
      return;
    }
    const request = decodeBody(OPERATION_SCHEMAS[op].request as Codec<unknown>, body);
    // The decoded request holds its own copy; the decrypted bytes of a secret go now.
    if (op === 'credentials') body.fill(0);
    if (this.inProgress.size >= MAX_OUTSTANDING_REQUESTS) {
      this.sendError(code, tag, new TetherError('PROTOCOL_BUSY'));
      return;
    }
    if (PAIRED_ONLY_OPERATIONS.has(op) && !this.paired) {
      this.sendError(code, tag, new TetherError('PROTOCOL_NOT_PAIRED', undefined, { detail: { operation: op } }));
      return;
    }
    const handler = this.device?.handlers[op] as ((req: unknown, ctx: { paired: boolean }) => Promise<unknown>) | undefined;
    if (handler === undefined) {
      this.sendError(code, tag, new TetherError('PROTOCOL_UNSUPPORTED_OPERATION', undefined, { detail: { operation: op } }));
      return;
    }
    this.inProgress.add(tag);
    void (async () => {
      let reply: unknown;
      try {
        reply = await handler(request, { paired: this.paired });
      } catch (err) {
        this.inProgress.delete(tag);
        this.sendError(code, tag, err instanceof TetherError ? err : new TetherError('DEVICE_INTERNAL'));
        return;
      }
      this.inProgress.delete(tag);
      if (this.ended) return;
      let message: Uint8Array;
      try {
        message = this.encodeControl(Kind.REPLY, code, tag, OPERATION_SCHEMAS[op].reply as Codec<unknown>, reply);
      } catch (err) {
        // The handler returned something the host would have to refuse: say so instead.
        this.sendError(code, tag, new TetherError('DEVICE_INTERNAL', `The phone built an invalid ${op} reply.`, { cause: err }));
        return;
      }
      this.sendControl(message, false).catch(ignore);
    })();
  }

  private sendError(code: number, tag: number, error: TetherError): void {
    if (this.ended) return;
    let message: Uint8Array;
    try {
      message = this.encodeControl(Kind.ERROR, code, tag, errorReplyCodec, { code: error.code, message: utf8Prefix(error.message, 512) });
    } catch {
      message = this.encodeControl(Kind.ERROR, code, tag, errorReplyCodec, { code: 'DEVICE_INTERNAL', message: '' });
    }
    this.sendControl(message, false).catch(ignore);
  }

  emit<E extends EventName>(event: E, payload: Events[E]): Promise<void> {
    if (this.ended) return Promise.reject(this.closedError());
    if (!this.negotiated?.features.includes('events')) return Promise.resolve();
    let message: Uint8Array;
    try {
      message = this.encodeControl(Kind.EVENT, EVENT_CODES[event], 0, EVENT_SCHEMAS[event] as Codec<Events[E]>, payload);
    } catch (err) {
      return Promise.reject(toTetherError(err));
    }
    return this.sendControl(message, false);
  }

  private onBulkFrame(plain: Uint8Array): void {
    if (this.role !== 'device' || this.device?.onBulk === undefined || !this.negotiated?.features.includes('bulk-firmware')) {
      throw violation('PROTOCOL_BAD_CHANNEL', 'Bulk data is not accepted here.', { channel: Channel.BULK });
    }
    if (plain.length <= BULK_HEADER_SIZE) throw violation('PROTOCOL_BAD_MESSAGE', 'A bulk chunk carries no data.');
    const view = new DataView(plain.buffer, plain.byteOffset, BULK_HEADER_SIZE);
    const transferId = view.getUint32(0, true);
    const hi = view.getUint32(8, true);
    if (transferId === 0 || hi !== 0) throw violation('PROTOCOL_BAD_MESSAGE', 'Bad bulk chunk header.', { transferId, offsetHigh: hi });
    const offset = view.getUint32(4, true);
    const data = plain.subarray(BULK_HEADER_SIZE);
    if (offset + data.length > 0xffff_ffff) throw violation('PROTOCOL_BAD_MESSAGE', 'A bulk chunk passes 4 GiB.');
    this.bulkInbox.push({ transferId, offset, data });
    if (!this.bulkRunning) void this.runBulk();
  }

  private async runBulk(): Promise<void> {
    this.bulkRunning = true;
    try {
      while (!this.ended) {
        const chunk = this.bulkInbox.shift();
        if (chunk === undefined) break;
        try {
          await this.device!.onBulk!(chunk);
        } catch (err) {
          const error = toTetherError(err, 'DEVICE_INTERNAL');
          this.end(error, error.code);
          return;
        }
        if (this.ended) return;
        this.consumedOne();
      }
    } finally {
      this.bulkRunning = false;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sending
  // ------------------------------------------------------------------------------------------

  private encodeControl<T>(kind: Kind, code: number, tag: number, codec: Codec<T>, value: T): Uint8Array {
    const w = new Writer();
    w.u8(kind);
    w.u8(code);
    w.u32(tag);
    try {
      codec.encode(w, value, '');
      if (w.length > MAX_MESSAGE_BYTES) throw new TetherError('PROTOCOL_MESSAGE_TOO_LARGE', undefined, { detail: { length: w.length } });
    } catch (err) {
      w.finish().fill(0); // a refused message may already hold a secret (a password before a bad field)
      throw err;
    }
    return w.finish();
  }

  /** Splits a control message into frames; resolves when the last one was handed to the link. */
  private sendControl(message: Uint8Array, secret: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const capacity = this.maxPayload - TAG_SIZE;
      for (let at = 0; at < message.length; at += capacity) {
        const last = at + capacity >= message.length;
        this.controlQueue.push({
          type: FrameType.DATA,
          flags: last ? 0 : FrameFlag.MORE,
          channel: Channel.CONTROL,
          parts: [message.subarray(at, Math.min(message.length, at + capacity))],
          ...(last ? { sent: resolve, dropped: reject, ...(secret ? { wipe: [message] } : {}) } : {}),
        });
      }
      this.pump();
    });
  }

  private enqueue(queue: Outgoing[], item: Outgoing): void {
    queue.push(item);
    this.pump();
  }

  private consumedOne(): void {
    this.consumed++;
    this.maybeAck();
  }

  /** Delayed ack: after ⌊window/4⌋ consumed frames, or when an ACK_REQUEST frame is consumed. */
  private maybeAck(): void {
    const requested = this.ackRequestAt !== null && this.consumed >= this.ackRequestAt;
    if (requested) this.ackRequestAt = null;
    const unacked = this.consumed - this.lastAckSent;
    if (unacked === 0 || this.ackQueued) return;
    if (unacked >= this.ackThreshold || requested) {
      this.ackQueued = true;
      this.enqueue(this.urgent, { type: FrameType.ACK, flags: 0, channel: Channel.CONTROL, parts: [] });
    }
  }

  private inFlight(): number {
    return this.dataSent - this.peerAcked;
  }

  private pump(): void {
    while (!this.ended && this.state === 'open' && this.sendsInFlight < MAX_SENDS_IN_FLIGHT) {
      let item = this.urgent.shift();
      if (item === undefined) {
        if (this.inFlight() >= this.sendWindow) return;
        item = this.controlQueue.shift() ?? this.bulkQueue.shift();
        if (item === undefined) return;
      }
      if (item.type === FrameType.ACK && item.flags === 0) {
        this.ackQueued = false;
        if (this.consumed === this.lastAckSent) continue; // another frame already carried it
      }
      this.transmit(item);
    }
  }

  private transmit(item: Outgoing): void {
    if (item.type === FrameType.DATA) {
      this.dataSent++;
      const emptyAfter = this.controlQueue.length + this.bulkQueue.length === 0;
      if (this.inFlight() >= this.sendWindow || (emptyAfter && this.requestAckAfterQueue)) {
        item.flags |= FrameFlag.ACK_REQUEST;
        if (emptyAfter) this.requestAckAfterQueue = false;
      }
    }
    let frame: Uint8Array;
    try {
      frame = this.seal(item);
    } catch (err) {
      const error = toTetherError(err);
      item.dropped?.(error);
      this.end(error, error.code);
      return;
    } finally {
      for (const b of item.wipe ?? []) b.fill(0);
    }
    this.sendsInFlight++;
    this.link.send(frame).then(
      () => {
        this.sendsInFlight--;
        this.pump();
      },
      (err: unknown) => {
        const error = toTetherError(err);
        this.end(error, null);
      },
    );
    item.sent?.();
  }

  private seal(item: Pick<Outgoing, 'type' | 'flags' | 'channel' | 'parts'>): Uint8Array {
    if (this.sendSeq >= 0xffff_ffff) throw violation('PROTOCOL_SEQUENCE_EXHAUSTED');
    const seq = this.sendSeq++;
    this.lastAckSent = this.consumed;
    return sealFrame(this.sendKeys!, { type: item.type, flags: item.flags, channel: item.channel, seq, ack: this.consumed >>> 0 }, item.parts);
  }

  // ------------------------------------------------------------------------------------------
  // Heartbeat
  // ------------------------------------------------------------------------------------------

  private armLiveness(): void {
    if (this.ended) return;
    this.timers.clearTimeout(this.livenessTimer);
    const timeout = this.heartbeatTimeoutMs ?? 3 * this.heartbeatIntervalMs;
    this.livenessTimer = this.timers.setTimeout(
      () => this.end(violation('PROTOCOL_HEARTBEAT_TIMEOUT', undefined, { timeoutMs: timeout }), 'PROTOCOL_HEARTBEAT_TIMEOUT'),
      timeout,
    );
  }

  private schedulePing(): void {
    this.pingTimer = this.timers.setTimeout(() => {
      if (this.ended) return;
      this.enqueue(this.urgent, { type: FrameType.PING, flags: 0, channel: Channel.CONTROL, parts: [] });
      this.schedulePing();
    }, this.heartbeatIntervalMs);
  }

  // ------------------------------------------------------------------------------------------
  // Ending
  // ------------------------------------------------------------------------------------------

  private closedError(): TetherError {
    return this.endError ?? new TetherError('PROTOCOL_SESSION_CLOSED');
  }

  /** Local, graceful close; resolves once the link is released. */
  async close(): Promise<void> {
    this.end(null, 'PROTOCOL_SESSION_CLOSED');
    await this.closed;
  }

  /**
   * Ends the session once: rejects everything pending, sends RESET (best effort) when `resetCode`
   * is given, closes the link, and resolves `closed`.
   */
  end(error: TetherError | null, resetCode: string | null): void {
    if (this.ended) return;
    this.ended = true;
    this.state = 'closed';
    this.endError = error;
    this.timers.clearTimeout(this.handshakeTimer);
    this.timers.clearTimeout(this.livenessTimer);
    this.timers.clearTimeout(this.pingTimer);
    const reason = error ?? new TetherError('PROTOCOL_SESSION_CLOSED');
    for (const call of this.pending.values()) {
      this.timers.clearTimeout(call.timer);
      call.reject(reason);
    }
    this.pending.clear();
    for (const w of this.flushWaiters) w.reject(reason);
    this.flushWaiters = [];
    this.confirmWaiter?.reject(reason);
    for (const q of [this.urgent, this.controlQueue, this.bulkQueue]) {
      for (const item of q.splice(0)) {
        item.dropped?.(reason);
        for (const b of item.wipe ?? []) b.fill(0);
      }
    }
    this.bulkInbox.length = 0;
    this.fragments = [];
    // Nothing is sealed or opened after the end (RESET is unsealed), so the keys go now.
    for (const keys of [this.sendKeys, this.recvKeys]) {
      keys?.key.fill(0);
      keys?.iv.fill(0);
    }
    // `closed` resolves only once the link is released, so a caller that re-opens the device on
    // `closed` never races the old link's release.
    void this.shutLink(resetCode).then(() => this.resolveClosed(error));
  }

  /** Sends RESET (waiting at most 1 s for it), then closes the link. Never rejects. */
  private async shutLink(resetCode: string | null): Promise<void> {
    if (resetCode !== null && /^[A-Z0-9_]{1,64}$/.test(resetCode)) {
      const frame = encodeFrame(
        { type: FrameType.RESET, flags: 0, channel: Channel.CONTROL, seq: this.sendSeq >>> 0, ack: 0 },
        encodeBody(resetCodec, { code: resetCode }),
      );
      let timer: unknown;
      await Promise.race([
        Promise.resolve()
          .then(() => this.link.send(frame))
          .catch(() => undefined),
        new Promise<void>((resolve) => (timer = this.timers.setTimeout(resolve, 1000))),
      ]);
      this.timers.clearTimeout(timer);
    }
    await Promise.resolve()
      .then(() => this.link.close())
      .catch(() => undefined);
  }
}
