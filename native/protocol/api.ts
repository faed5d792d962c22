/**
 * The tether session API (docs/tether-protocol.md). Both sides run the same session core over a
 * FrameLink; the host side drives (handshake initiator, pairing confirmation, calls, firmware bulk
 * stream), the device side (the phone, or the virtual phone) answers with one handler per operation
 * and emits events.
 *
 * Lifecycle: a session ends exactly once — by close(), by the peer's RESET, by the link failing, or
 * by a protocol violation (fail closed: the session sends RESET, closes its link, and rejects every
 * pending call with the violation's TetherError). A session is never reused: re-attach by opening a
 * new session on a new link.
 */
import type { TetherError } from '../../common/errors';
import type {
  BulkChunk,
  DeviceIdentity,
  EventName,
  Events,
  OperationName,
  OperationReply,
  OperationRequest,
} from './messages';
import type { HostPairingKeys, PhonePairingKeys } from './known-peers';

/** Timer seam so tests never sleep (see manualTimers()). */
export interface SessionTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Feature names a side may announce in its handshake; the session uses the intersection. */
export type Feature = 'bulk-firmware' | 'events' | 'known-host';

/** Limits and timings both sides can tune. Defaults in parentheses. */
export interface SessionOptions {
  /** Largest frame payload this side accepts (65536; 1024 … 1048576). Negotiated: min of both. */
  readonly maxPayload?: number;
  /** DATA frames this side buffers before acknowledging (32; 1 … 4096). The peer's value bounds our sends. */
  readonly window?: number;
  /** Protocol versions this side speaks ([1]). */
  readonly versions?: readonly number[];
  /** Features this side announces (all known). */
  readonly features?: readonly Feature[];
  /** Handshake must finish within this (10000 ms). */
  readonly handshakeTimeoutMs?: number;
  /** Host: ping period; device: announced by the host (2000 ms). */
  readonly heartbeatIntervalMs?: number;
  /** Reset when nothing is received for this long (3 × heartbeat interval). */
  readonly heartbeatTimeoutMs?: number;
  /** Largest reassembled control message (16 MiB). */
  readonly maxMessageBytes?: number;
  readonly timers?: SessionTimers;
}

/** What the handshake settled. */
export interface NegotiatedParameters {
  readonly version: number;
  readonly maxPayload: number;
  /** The PEER's receive window: how many unacknowledged DATA frames this side may have in flight. */
  readonly sendWindow: number;
  /** This side's receive window. */
  readonly receiveWindow: number;
  readonly features: readonly Feature[];
  readonly heartbeatIntervalMs: number;
}

/**
 * How a session got (or will get) paired. `code`: the user must compare the six-digit codes and the
 * host calls confirmPairing(). `known-host`: both sides proved the long-term keys they remembered
 * at an earlier confirmed pairing (§5.7); the session is paired from open() on, nobody is asked.
 */
export type PairingMethod = 'code' | 'known-host';

export interface PairingInfo {
  /** Six-digit short authentication string, e.g. "042917"; the phone shows it only for `code` pairing. */
  readonly sas: string;
  /** True once paired: by the phone's remembered key at open(), or after confirmPairing(). */
  readonly confirmed: boolean;
  /** `known-host`: paired at open(), do not ask the user; `code`: show `sas`, then confirmPairing(). */
  readonly method: PairingMethod;
  /**
   * Host: true once this phone's long-term key is in the host's pairing store (after a confirmed
   * code pairing, or already at open() for `known-host`), so the next session needs no code.
   * False when either side lacks `known-host`, or the store could not save it.
   */
  readonly remembered: boolean;
}

export type SessionState = 'handshake' | 'open' | 'closed';

/** Shared by both sides. */
export interface SessionBase {
  readonly negotiated: NegotiatedParameters;
  readonly state: SessionState;
  /** True after the pairing code was confirmed (both sides then accept secrets). */
  readonly paired: boolean;
  /**
   * Resolves once when the session has ended and its link is released (RESET sent, waiting at most
   * 1 s for it): null after a local close(), else the TetherError that ended it. Never rejects.
   */
  readonly closed: Promise<TetherError | null>;
  /** Ends the session gracefully (sends RESET with PROTOCOL_SESSION_CLOSED, closes the link). Idempotent. */
  close(): Promise<void>;
}

export interface CallOptions {
  /** Reject with PROTOCOL_CALL_TIMEOUT after this (30000 ms; firmwareVerify often needs more). */
  readonly timeoutMs?: number;
}

/** Writes firmware bytes on the bulk channel under the credit window. */
export interface BulkWriter {
  readonly transferId: number;
  /**
   * Queues `data` at `offset` (split into frames of at most negotiated capacity). Resolves when the
   * last of its frames has been handed to the link, i.e. it waits while the credit window is full:
   * that is the backpressure. Do not modify `data` until it resolves.
   */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Resolves when the phone has consumed (written) every chunk sent so far. */
  flush(): Promise<void>;
}

export interface HostSession extends SessionBase {
  /** The phone's identity from the handshake. */
  readonly identity: DeviceIdentity;
  /** Frames of the phone's earlier session skipped before its WELCOME (docs/tether-protocol.md §4.4). */
  readonly staleFramesSkipped: number;
  /** The pairing code to show the user (compare with the phone's display). */
  pairing(): PairingInfo;
  /**
   * Confirms the pairing (the user compared the codes, or a kiosk pre-approved this serial).
   * Resolves when the phone has acknowledged; from then on paired-only operations are allowed.
   */
  confirmPairing(): Promise<void>;
  /** Calls an operation; rejects with a TetherError (the phone's error reply, or a session error). */
  call<K extends OperationName>(op: K, request: OperationRequest<K>, options?: CallOptions): Promise<OperationReply<K>>;
  /** A writer for firmware data of one transfer (from firmwareBegin's reply). */
  bulkWriter(transferId: number): BulkWriter;
  /** Subscribes to a phone event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}

export interface HostSessionOptions extends SessionOptions {
  /**
   * This PC's long-term key and the phones it paired with (main/device/host-pairing.ts keeps them
   * in the user's data folder). With it the host announces `known-host`; without it every session
   * pairs by code.
   */
  readonly pairingKeys?: HostPairingKeys;
}

/** Context passed to each device handler. */
export interface HandlerContext {
  readonly paired: boolean;
}

/** One handler per operation. Throw a TetherError (DEVICE_* or PROTOCOL_* code) to send an error reply. */
export type DeviceHandlers = {
  readonly [K in OperationName]: (request: OperationRequest<K>, context: HandlerContext) => Promise<OperationReply<K>>;
};

export interface DeviceSessionOptions extends SessionOptions {
  readonly identity: DeviceIdentity;
  /** Operation handlers; a missing one answers PROTOCOL_UNSUPPORTED_OPERATION. */
  readonly handlers: Partial<DeviceHandlers>;
  /**
   * Consumes one firmware chunk. The session feeds chunks strictly in arrival order, one at a time,
   * and acknowledges the frame only when the promise resolves (that is the flow control). Throwing
   * a TetherError resets the session. Without it, bulk data is a protocol violation.
   */
  readonly onBulk?: (chunk: BulkChunk) => Promise<void>;
  /** Called once the SAS is known, before the host can confirm: show it on the display. */
  readonly showSas?: (sas: string) => void;
  /** Called when the session is paired: the host confirmed the code, or proved a remembered key. */
  readonly onPaired?: (method: PairingMethod) => void;
  /**
   * The phone's long-term key and the hosts it remembers. With it the phone announces
   * `known-host` and a remembered PC pairs without a code (§5.7).
   */
  readonly pairingKeys?: PhonePairingKeys;
}

export interface DeviceSession extends SessionBase {
  readonly identity: DeviceIdentity;
  /** The six-digit pairing code (given to showSas only for `code` pairing). */
  readonly sas: string;
  /** How this session is paired (or will be, once the host confirms). */
  readonly pairingMethod: PairingMethod;
  /** Sends an event to the host. Resolves when handed to the link (events wait for credit like any DATA). */
  emit<E extends EventName>(event: E, payload: Events[E]): Promise<void>;
}
