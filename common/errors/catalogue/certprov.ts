import type { ErrorTable } from '../entry';
import { POOL_LATER, RETRY_THEN_IT, SIGN_IN_AGAIN } from './user-actions';

const PUBLISH_CMDLET = 'Test-CsPhoneBootstrap -PhoneOrExt <number or extension> -PIN <PIN> -UserSipAddress <sip:user@domain>';

/** Typed errors of the certprov area: code → stage, summary and fix. */
export const certprovErrors = {
  // Stage 8, GetAndPublishCert (main/pool/certprov), reference §4 and §7 [S12][S26].
  CERTPROV_PUBLISH_FAILED: {
    stage: 'certificate',
    summary: 'The pool issued the certificate but could not publish it ("data store unavailable").',
    fix: 'Try again (power-cycle the phone or re-run the sign-in). If it persists, the administrator should check that the User Services store of the user\'s home pool is reachable from the Web Services server (IIS event log).',
    userAction: SIGN_IN_AGAIN,
    cmdlet: PUBLISH_CMDLET,
  },
  CERTPROV_REQUEST_REJECTED: {
    stage: 'certificate',
    summary: 'The Certificate Provisioning service refused the certificate request; its reason is in the message.',
    fix: 'Check the user\'s SIP address and try again; if the reason names the key size, the phone\'s key is outside MinCSRKeySize/MaxCSRKeySize.',
    userAction: 'Check your sign-in address and try again. If it fails again, tell your IT support.',
    cmdlet: PUBLISH_CMDLET,
  },
  CERTPROV_TICKET_REJECTED: {
    stage: 'certificate',
    summary: 'The Certificate Provisioning service did not accept the web ticket (missing, expired or not signed right).',
    fix: 'Sign in again to get a fresh ticket; check that this PC\'s clock is right.',
    userAction: "Check that this computer's date and time are right, then start the sign-in again.",
    cmdlet: PUBLISH_CMDLET,
  },
  CERTPROV_SERVICE_ERROR: {
    stage: 'certificate',
    summary: 'The Certificate Provisioning service failed with a server error.',
    fix: 'Try again in a minute; if it persists, check the Lync Server and IIS event logs on the pool for the time of the error.',
    userAction: RETRY_THEN_IT,
    cmdlet: PUBLISH_CMDLET,
  },
  CERTPROV_NOT_HTTPS: {
    stage: 'certificate',
    summary: 'The Certificate Provisioning address is not https, so Tether will not send the web ticket there.',
    fix: 'Check the Web Services address (DHCP option 43 or the configured URL) and the pool\'s internal Web Services URLs: both must be https://.',
    userAction: 'Stop and tell your IT support; Tether did not send your sign-in there.',
    cmdlet: 'Get-CsService -WebServer',
  },
  CERTPROV_BAD_RESPONSE: {
    stage: 'certificate',
    summary: 'The Certificate Provisioning service sent an answer Tether cannot use (malformed, or a certificate that does not match the phone\'s key).',
    fix: 'Check that the Web Services URL points at the Lync pool; save a diagnostics bundle if it persists.',
    userAction: POOL_LATER,
  },
} as const satisfies ErrorTable;
