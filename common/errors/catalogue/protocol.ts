import type { ErrorTable } from '../entry';
import { ASK_IT, OTHER_CABLE, REPLUG, RETRY_FIRMWARE, ROGUE_PHONE, SIGN_IN_AGAIN, UPDATE_SOFTWARE } from './user-actions';

const RESET_FIX = 'Tether reset the USB session; unplug and re-plug the phone if it does not reconnect by itself.';
const ROGUE_FIX =
  'The USB session was reset for safety. If it keeps happening, use another cable or port; if it persists with one phone, that phone (or something between it and the PC) may be faulty or hostile.';

/**
 * Typed errors of the tether wire protocol (docs/tether-protocol.md). PROTOCOL_* codes are session
 * faults (stage null, the session resets, adb's rule); DEVICE_* codes are operation errors the phone
 * returns in an error reply (the session stays up), attributed to the stage the operation serves.
 */
export const protocolErrors = {
  // ---- framing (decoder) ----
  PROTOCOL_FRAME_TRUNCATED: {
    stage: null,
    summary: 'The phone sent a USB frame shorter than a frame header.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_BAD_MAGIC: {
    stage: null,
    summary: 'A USB frame did not start with the tether magic bytes; the device may not be a Tether phone.',
    fix: ROGUE_FIX,
    userAction: ROGUE_PHONE,
  },
  PROTOCOL_BAD_VERSION: {
    stage: null,
    summary: 'A USB frame carried an unknown frame-format version.',
    fix: 'Update Tether or the phone firmware so both speak the same tether protocol version.',
    userAction: UPDATE_SOFTWARE,
  },
  PROTOCOL_BAD_TYPE: {
    stage: null,
    summary: 'A USB frame had an unknown frame type.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_BAD_FLAGS: {
    stage: null,
    summary: 'A USB frame had flag bits set that are not allowed for its type.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_BAD_CHANNEL: {
    stage: null,
    summary: 'A USB frame named a channel that does not exist or is wrong for its type.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_LENGTH_MISMATCH: {
    stage: null,
    summary: 'A USB frame’s length field did not match the bytes received (a truncated or merged transfer).',
    fix: 'Check the USB cable and avoid unpowered hubs; Tether reset the session.',
    userAction: OTHER_CABLE,
  },
  PROTOCOL_OVERSIZE: {
    stage: null,
    summary: 'A USB frame was larger than the maximum payload agreed at the handshake.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_BAD_CRC: {
    stage: null,
    summary: 'A USB frame failed its CRC-32C check (corrupted on the cable).',
    fix: 'Check the USB cable and port; Tether reset the session.',
    userAction: OTHER_CABLE,
  },
  // ---- session (state machine, ordering, crypto) ----
  PROTOCOL_BAD_SEQUENCE: {
    stage: null,
    summary: 'A USB frame arrived out of order or twice (sequence number check failed).',
    fix: ROGUE_FIX,
    userAction: ROGUE_PHONE,
  },
  PROTOCOL_UNEXPECTED_FRAME: {
    stage: null,
    summary: 'The phone sent a frame that is not allowed in the session’s current state.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_DECRYPT_FAILED: {
    stage: null,
    summary: 'An encrypted USB frame failed authentication (altered, replayed or forged).',
    fix: ROGUE_FIX,
    userAction: ROGUE_PHONE,
  },
  PROTOCOL_BAD_MESSAGE: {
    stage: null,
    summary: 'A message on the USB session was malformed or failed validation.',
    fix: 'Update Tether or the phone firmware so both speak the same tether protocol version; Tether reset the session.',
    userAction: UPDATE_SOFTWARE,
  },
  PROTOCOL_MESSAGE_TOO_LARGE: {
    stage: null,
    summary: 'A message on the USB session was larger than the protocol allows.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_WINDOW_EXCEEDED: {
    stage: null,
    summary: 'The other side sent more data than its flow-control credit allowed.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_BAD_ACK: {
    stage: null,
    summary: 'The other side acknowledged data that was never sent.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_UNKNOWN_TAG: {
    stage: null,
    summary: 'The phone answered a request that was never made (unknown or duplicate tag).',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_SEQUENCE_EXHAUSTED: {
    stage: null,
    summary: 'The USB session used up its frame sequence numbers and was ended so that no nonce repeats.',
    fix: 'Nothing to fix: Tether opens a new session automatically.',
    userAction: 'Nothing to do: Tether reconnects to the phone by itself.',
  },
  PROTOCOL_VERSION_UNSUPPORTED: {
    stage: null,
    summary: 'Tether and the phone share no tether protocol version.',
    fix: 'Update Tether or the phone firmware so both support a common tether protocol version.',
    userAction: UPDATE_SOFTWARE,
  },
  PROTOCOL_HANDSHAKE_FAILED: {
    stage: null,
    summary: 'The secure handshake with the phone failed (bad key, commitment or parameters).',
    fix: ROGUE_FIX,
    userAction: ROGUE_PHONE,
  },
  PROTOCOL_HANDSHAKE_TIMEOUT: {
    stage: null,
    summary: 'The phone did not complete the tether handshake in time.',
    fix: 'Unplug the phone, wait for it to finish booting, and plug it in again.',
    userAction: 'Unplug the phone, wait until it has finished starting, then plug it in again.',
  },
  PROTOCOL_HEARTBEAT_TIMEOUT: {
    stage: null,
    summary: 'The phone stopped answering on the USB link (heartbeat timed out).',
    fix: 'Check that the phone is still plugged in and powered; Tether reconnects when it answers again.',
    userAction: 'Check that the phone is still plugged in and switched on; Tether reconnects when it answers again.',
  },
  PROTOCOL_PEER_RESET: {
    stage: null,
    summary: 'The other side reset the USB session.',
    fix: RESET_FIX,
    userAction: REPLUG,
  },
  PROTOCOL_LINK_CLOSED: {
    stage: null,
    summary: 'The USB link to the phone closed (unplugged or released).',
    fix: 'Plug the phone in again; Tether reconnects by itself.',
    userAction: "Plug the phone's USB cable back in and wait a moment; Tether reconnects by itself.",
  },
  PROTOCOL_SESSION_CLOSED: {
    stage: null,
    summary: 'The USB session with the phone is closed.',
    fix: 'Re-plug the phone or wait for Tether to reconnect, then try again.',
    userAction: 'Plug the phone in again or wait a moment for Tether to reconnect, then try again.',
  },
  PROTOCOL_NOT_PAIRED: {
    stage: null,
    summary: 'Credentials and certificates are sent only after the pairing code has been confirmed.',
    fix: 'Compare the six-digit code on the phone’s display with the one Tether shows and confirm it if they match.',
    userAction: "Compare the six-digit code on the phone's screen with the one Tether shows, and confirm if they are the same.",
  },
  PROTOCOL_CALL_TIMEOUT: {
    stage: null,
    summary: 'The phone did not answer a request in time.',
    fix: 'Check that the phone is still plugged in, then try again.',
    userAction: "Check that the phone's USB cable is still plugged in at both ends, then try again.",
  },
  PROTOCOL_BUSY: {
    stage: null,
    summary: 'The phone has too many requests outstanding.',
    fix: 'Wait a moment and try again.',
    userAction: 'Wait a few seconds and try again; Tether is still finishing earlier work with the phone.',
  },
  PROTOCOL_UNSUPPORTED_OPERATION: {
    stage: null,
    summary: 'The phone does not support this operation.',
    fix: 'Update the phone firmware, or use a phone model that supports it.',
    userAction: 'Tell your IT support: this phone model or its software cannot do this.',
  },
  PROTOCOL_REMOTE_ERROR: {
    stage: null,
    summary: 'The phone reported an error Tether does not know.',
    fix: 'Save a diagnostics bundle (it includes the phone’s logs) and report it.',
    userAction: 'Restart the phone and try again. If it happens again, tell your IT support.',
  },
  // ---- operation errors the phone returns (session stays up) ----
  DEVICE_BAD_REQUEST: {
    stage: null,
    summary: 'The phone rejected a request as invalid.',
    fix: 'Update Tether or the phone firmware so both speak the same tether protocol version.',
    userAction: UPDATE_SOFTWARE,
  },
  DEVICE_INTERNAL: {
    stage: null,
    summary: 'The phone hit an internal error while handling a request.',
    fix: 'Reboot the phone and try again; if it persists, save a diagnostics bundle with the phone’s logs.',
    userAction: 'Restart the phone (unplug its power for a few seconds) and try again.',
  },
  DEVICE_STORAGE_FULL: {
    stage: null,
    summary: 'The phone has no room left to store the data.',
    fix: 'Wipe user data on the phone (helpdesk) and try again.',
    userAction: "Ask your IT support or helpdesk to clear the phone's stored data, then try again.",
  },
  DEVICE_POOL_ENDPOINTS_REJECTED: {
    stage: 'registrar',
    summary: 'The phone rejected the pool endpoints (Registrar FQDN or Web Services URL).',
    fix: 'Check the Registrar FQDN and the Web Services URL (https, FQDN, not an IP address) in the pool settings.',
    userAction: ASK_IT,
    cmdlet: 'Get-CsService -WebServer | Select InternalFqdn,ExternalFqdn',
  },
  DEVICE_CHAIN_REJECTED: {
    stage: 'ca-chain',
    summary: 'The phone rejected the CA chain (malformed, not a chain, or too many certificates).',
    fix: 'Export the full chain (root and every intermediate) from the pool’s Web Services certificate and push it again.',
    userAction: ASK_IT,
    cmdlet: 'Test-CsPhoneBootstrap',
  },
  DEVICE_CREDENTIALS_REJECTED: {
    stage: 'auth',
    summary: 'The phone refused the credentials (wrong form for this phone model).',
    fix: 'CX700 phones cannot use PIN sign-in; use Windows credentials (domain, user, password) for them.',
    userAction: 'Sign this phone in with your Windows user name and password instead of a PIN.',
    cmdlet: 'Test-CsPhoneBootstrap',
  },
  DEVICE_NO_KEY_PAIR: {
    stage: 'certificate',
    summary: 'The phone has no key pair matching the certificate (no certificate request was made first).',
    fix: 'Sign in again so that Tether asks the phone for a new certificate request.',
    userAction: 'Start the sign-in again.',
  },
  DEVICE_CERTIFICATE_MISMATCH: {
    stage: 'certificate',
    summary: 'The certificate does not match the phone’s key pair or is malformed.',
    fix: 'Sign in again; if it repeats, check the pool’s certificate provisioning service.',
    userAction: SIGN_IN_AGAIN,
    cmdlet: 'Test-CsClientAuth',
  },
  DEVICE_FIRMWARE_NO_TRANSFER: {
    stage: 'check-update',
    summary: 'The phone has no firmware transfer with that id (it was reset or replaced).',
    fix: 'Start the firmware update again; the phone keeps what it already received when it can.',
    userAction: 'Start the sign-in again; the update starts over.',
  },
  DEVICE_FIRMWARE_OUT_OF_RANGE: {
    stage: 'check-update',
    summary: 'Firmware data arrived at an offset beyond the image size or out of order.',
    fix: 'Start the firmware update again.',
    userAction: 'Start the sign-in again; the update starts over.',
  },
  DEVICE_FIRMWARE_INCOMPLETE: {
    stage: 'check-update',
    summary: 'The firmware image on the phone is not complete yet.',
    fix: 'Let the transfer finish (it resumes where it stopped), then verify again.',
    userAction: 'Keep the phone plugged in and start the sign-in again; the update carries on where it stopped.',
  },
  DEVICE_FIRMWARE_HASH_MISMATCH: {
    stage: 'check-update',
    summary: 'The firmware image on the phone does not match its SHA-256 (damaged in transfer or a bad download).',
    fix: 'Download the update again from Device Update and push it once more.',
    userAction: RETRY_FIRMWARE,
    cmdlet: 'Get-CsDeviceUpdateRule',
  },
  DEVICE_FIRMWARE_NOT_VERIFIED: {
    stage: 'check-update',
    summary: 'The firmware image must be verified before it can be activated.',
    fix: 'Verify the image (Tether does this automatically) and activate it again.',
    userAction: 'Start the sign-in again.',
  },
  DEVICE_FIRMWARE_NOTHING_TO_COMMIT: {
    stage: 'check-update',
    summary: 'There is no newly activated firmware waiting to be committed.',
    fix: 'Nothing to do: the running firmware is already committed.',
    userAction: "Nothing to do: the phone's software is already up to date.",
  },
  DEVICE_FIRMWARE_NO_ROLLBACK: {
    stage: 'check-update',
    summary: 'The phone has no previous firmware to roll back to.',
    fix: 'Push the wanted firmware version as an update instead (Device Update accepts older versions).',
    userAction: 'Tell your IT support; the phone keeps its current software.',
    cmdlet: 'Get-CsDeviceUpdateRule',
  },
} as const satisfies ErrorTable;
