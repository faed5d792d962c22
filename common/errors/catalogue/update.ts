import type { ErrorTable } from '../entry';
import { POOL_LATER, RETRY_THEN_IT } from './user-actions';

/** Typed errors of the update area (Device Update Web service and image downloads): code → stage, summary and fix. */
export const updateErrors = {
  UPDATE_SERVICE_UNREACHABLE: {
    stage: 'find-update',
    summary: 'The Device Update Web service could not be reached.',
    fix: 'Check that ucupdates-r2.<SIP domain> resolves to the pool and that the pool\'s web server answers on HTTPS (443) and HTTP (80).',
    userAction: "Check the phone's network cable and try again. If it fails again, tell your IT support.",
  },
  UPDATE_SERVICE_ERROR: {
    stage: 'check-update',
    summary: 'The Device Update Web service answered with a server error.',
    fix: 'Ask the Lync admin to check the Device Update Web service and IIS event log on the pool, then try again.',
    userAction: POOL_LATER,
  },
  UPDATE_ANONYMOUS_DENIED: {
    stage: 'check-update',
    summary: 'The Device Update Web service refused an anonymous request.',
    fix: 'Use the internal Device Update address, or sign the phone in first so that it asks with credentials.',
    userAction: 'Start the sign-in again from inside the office network. If it fails again, tell your IT support.',
  },
  UPDATE_RESPONSE_MALFORMED: {
    stage: 'check-update',
    summary: 'The Device Update Web service sent an answer that cannot be read.',
    fix: 'Ask the Lync admin to check the Device Update Web service on the pool; save a diagnostics bundle for them.',
    userAction: POOL_LATER,
  },
  UPDATE_IMAGE_MISSING: {
    stage: 'check-update',
    summary: 'The update image the service offered is missing from the Device Update store.',
    fix: 'Ask the Lync admin to re-import the update (Import-CsDeviceUpdate) and approve it again.',
    userAction: POOL_LATER,
    cmdlet: 'Get-CsDeviceUpdateRule',
  },
  UPDATE_IMAGE_SIZE_MISMATCH: {
    stage: 'check-update',
    summary: 'The downloaded update image has the wrong size (cut short or too long).',
    fix: 'Try again; if it happens again, ask the Lync admin to re-import the update (Import-CsDeviceUpdate).',
    userAction: RETRY_THEN_IT,
  },
  UPDATE_IMAGE_HASH_MISMATCH: {
    stage: 'check-update',
    summary: 'The downloaded update image does not match its checksum; it was not used.',
    fix: 'Try again; if it happens again, the file in the Device Update store is damaged: ask the Lync admin to re-import it.',
    userAction: RETRY_THEN_IT,
  },
  UPDATE_SIGNATURE_MISSING: {
    stage: 'check-update',
    summary: 'The signature file of the offered update is missing from the Device Update store.',
    fix: 'Ask the Lync admin to re-import the update (Import-CsDeviceUpdate) so the image and its signature file are both in the store, and approve it again.',
    userAction: POOL_LATER,
    cmdlet: 'Get-CsDeviceUpdateRule',
  },
  UPDATE_SIGNATURE_SIZE_MISMATCH: {
    stage: 'check-update',
    summary: 'The downloaded signature file of the update has the wrong size (cut short or too long).',
    fix: 'Try again; if it happens again, ask the Lync admin to re-import the update (Import-CsDeviceUpdate).',
    userAction: RETRY_THEN_IT,
  },
  UPDATE_SIGNATURE_HASH_MISMATCH: {
    stage: 'check-update',
    summary: 'The downloaded signature file of the update does not match its checksum; it was not used.',
    fix: 'Try again; if it happens again, the signature file in the Device Update store is damaged: ask the Lync admin to re-import the update.',
    userAction: RETRY_THEN_IT,
  },
  UPDATE_CACHE_FAILED: {
    stage: 'check-update',
    summary: 'The update image could not be saved to the local cache folder.',
    fix: 'Check free disk space and that Tether may write to its cache folder.',
    userAction: 'Free some disk space on this computer, then try again.',
  },
} as const satisfies ErrorTable;
