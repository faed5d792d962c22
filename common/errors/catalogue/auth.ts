import type { ErrorTable } from '../entry';
import { ASK_IT, POOL_LATER, RETRY_THEN_IT } from './user-actions';

const BOOTSTRAP_CMDLET = 'Test-CsPhoneBootstrap -PhoneOrExt <number or extension> -PIN <PIN> -Verbose';

/** Typed errors of the auth area: code → stage, summary and fix. */
export const authErrors = {
  // Stage 7, the WebTicket service (main/pool/auth/webticket.ts), reference §4 and §7 [S11][S28][S30].
  WEBTICKET_PIN_REJECTED: {
    stage: 'auth',
    summary: 'The pool did not accept this phone number (or extension) and PIN.',
    fix: 'Check the number or extension and the PIN and try again; if the number is shared, use the extension. The account locks after too many wrong PINs, so ask the helpdesk to reset the PIN (Set-CsClientPin) if unsure.',
    userAction: 'Check your phone number or extension and your PIN, and try again. After too many wrong PINs the account locks, so if you are unsure ask your helpdesk for a new PIN.',
    cmdlet: BOOTSTRAP_CMDLET,
  },
  WEBTICKET_ACCOUNT_LOCKED: {
    stage: 'auth',
    summary: 'The account is locked after too many wrong PINs.',
    fix: 'An administrator must unlock the PIN (Unlock-CsClientPin -Identity <user>) before the phone can sign in; then try again with the right PIN.',
    userAction: 'Ask your helpdesk to unlock your PIN, then sign in again with the right PIN.',
    cmdlet: BOOTSTRAP_CMDLET,
  },
  WEBTICKET_METHOD_DISABLED: {
    stage: 'auth',
    summary: 'The pool refused this way of signing in (HTTP 403): PIN or Windows authentication is turned off for phones.',
    fix: 'Use the other sign-in method, or ask the administrator to enable it (Set-CsWebServiceConfiguration -UsePinAuth $true, or -UseWindowsAuth NTLM).',
    userAction: 'Try the other way of signing in (PIN or Windows user name and password), or ask your IT support which one to use.',
    cmdlet: 'Get-CsWebServiceConfiguration',
  },
  WEBTICKET_REFUSED: {
    stage: 'auth',
    summary: 'The Web Ticket service refused to issue a ticket; its diagnostic is in the message.',
    fix: 'Read the error id and reason in the message; check the account is enabled for Lync and the user\'s SIP address is right.',
    userAction: 'Check your sign-in address and try again. If it fails again, tell your IT support.',
    cmdlet: BOOTSTRAP_CMDLET,
  },
  WEBTICKET_SERVICE_ERROR: {
    stage: 'auth',
    summary: 'The Web Ticket service failed with a server error.',
    fix: 'Try again in a minute; if it persists, check the Lync Server and IIS event logs on the pool for the time of the error.',
    userAction: RETRY_THEN_IT,
    cmdlet: BOOTSTRAP_CMDLET,
  },
  WEBTICKET_BAD_RESPONSE: {
    stage: 'auth',
    summary: 'The Web Ticket service sent an answer Tether cannot use.',
    fix: 'Check that the Web Services URL (DHCP option 43 or the configured URL) points at the Lync pool; save a diagnostics bundle if it persists.',
    userAction: POOL_LATER,
  },
  WEBTICKET_NOT_HTTPS: {
    stage: 'auth',
    summary: 'The Web Ticket address is not https, so Tether will not send the PIN or password there.',
    fix: 'Check the Web Services address (DHCP option 43 or the configured URL) and the pool\'s internal Web Services URLs: both must be https://.',
    userAction: 'Stop and tell your IT support; Tether did not send your PIN or password.',
    cmdlet: 'Get-CsService -WebServer',
  },
  // NTLM over HTTP (common/pool/ntlm, main/pool/auth/ntlm-http.ts), MS-NLMP and RFC 4559.
  NTLM_NOT_OFFERED: {
    stage: 'auth',
    summary: 'The server did not offer Windows (NTLM) authentication.',
    fix: 'Ask the administrator to allow NTLM on the Web services (Set-CsWebServiceConfiguration -UseWindowsAuth NTLM or Negotiate), or use PIN sign-in.',
    userAction: 'Sign in with your phone number and PIN instead, or ask your IT support which way to use.',
    cmdlet: 'Get-CsWebServiceConfiguration',
  },
  NTLM_UNSUPPORTED: {
    stage: 'auth',
    summary: 'The server offered an NTLM variant Tether does not use (it needs NTLMv2 with Unicode and target information).',
    fix: 'Set the pool\'s LAN Manager authentication level to send NTLMv2 responses only (LmCompatibilityLevel 3 or higher).',
    userAction: ASK_IT,
  },
  NTLM_MALFORMED: {
    stage: 'auth',
    summary: 'An NTLM message in the handshake was malformed or truncated.',
    fix: 'Check that nothing between this PC and the pool (a proxy or load balancer) rewrites the Authorization headers; try again.',
    userAction: RETRY_THEN_IT,
  },
  NTLM_REJECTED: {
    stage: 'auth',
    summary: 'The server rejected these Windows credentials (NTLM).',
    fix: 'Check the domain, user name and password (DOMAIN\\user), and that the account is enabled and not locked; try again.',
    userAction: 'Check your domain, user name and password (as DOMAIN\\user) and try again.',
    cmdlet: 'Test-CsClientAuth -UserSipAddress <sip:user@domain> -UserCredential <DOMAIN\\user>',
  },
  NTLM_CONNECTION_LOST: {
    stage: 'auth',
    summary: 'The server closed the connection in the middle of the NTLM handshake, which binds to one connection.',
    fix: 'Make sure a load balancer or proxy in front of the pool keeps the client connection (persistence) and does not close it after the first answer.',
    userAction: RETRY_THEN_IT,
  },
} as const satisfies ErrorTable;
