/**
 * The tether wire protocol (spec: docs/tether-protocol.md).
 *
 *   const host = await openHostSession(link);            // handshake; host.identity is the phone's
 *   show(host.pairing().sas); await host.confirmPairing(); // after the user compared the codes
 *   const status = await host.call('status', {});
 *   const { transferId, have } = await host.call('firmwareBegin', { size, version, sha256 });
 *   const w = host.bulkWriter(transferId); await w.write(have, image.subarray(have)); await w.flush();
 *   await host.call('firmwareVerify', { transferId });
 *
 *   const phone = await openDeviceSession(link, { identity, handlers, onBulk, showSas });
 *   await phone.emit('display', { text: 'Signed in' });
 */
export type { FrameLink } from './link';
export type {
  BulkWriter,
  CallOptions,
  DeviceHandlers,
  DeviceSession,
  DeviceSessionOptions,
  Feature,
  HandlerContext,
  HostSession,
  HostSessionOptions,
  NegotiatedParameters,
  PairingInfo,
  PairingMethod,
  SessionBase,
  SessionOptions,
  SessionState,
  SessionTimers,
} from './api';
export * from './messages';
export { openHostSession } from './host-session';
export { openDeviceSession } from './device-session';
export { memoryLinkPair } from './memory-link';
export type { MemoryDirection, MemoryLinkOptions } from './memory-link';
export { manualTimers, realTimers } from './timers';
export {
  ed25519FromPem,
  ed25519KeyPair,
  memoryHostPairing,
  memoryPhonePairing,
  rawEd25519PublicKey,
  signEd25519,
  verifyEd25519,
} from './known-peers';
export type { Ed25519KeyPair, HostPairingKeys, PhonePairingKeys } from './known-peers';
export type { ManualTimers } from './timers';
export { crc32c } from './crc32c';
export {
  FRAME_HEADER_SIZE,
  FRAME_MAGIC,
  FRAME_VERSION,
  FrameType,
  FrameFlag,
  Channel,
  encodeFrame,
  decodeFrame,
} from './frame';
export type { Frame } from './frame';
