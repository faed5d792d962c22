import type { ErrorTable } from '../entry';
import { ASK_IT, POOL_LATER } from './user-actions';

/**
 * Typed errors of the registrar area (stage 9: SIP REGISTER over TLS) and of the SIP message codec
 * the client and the lab share. Texts follow the "Log on to the Lync Server" topic [S13]
 * (docs/reference.md §5, §7).
 */
export const registrarErrors = {
  SIP_MESSAGE_MALFORMED: {
    stage: 'logon',
    summary: 'A SIP message could not be read (bad start line, header or length).',
    fix: 'Check that the Registrar address and port point at a Lync pool (TLS, usually 5061); capture the exchange if it happens again.',
    userAction: POOL_LATER,
  },
  SIP_MESSAGE_TOO_LARGE: {
    stage: 'logon',
    summary: 'A SIP message was larger than Tether accepts.',
    fix: 'Check that the Registrar address and port point at a Lync pool; nothing else should answer there.',
    userAction: POOL_LATER,
  },
  REGISTRAR_UNREACHABLE: {
    stage: 'logon',
    summary: 'Unable to contact Registrar for authentication. Please sign in again.',
    fix: 'Check the network path to the Registrar and that its FQDN is right (DHCP option 120 or DNS SRV _sipinternaltls._tcp); run Test-CsClientAuth without -TargetFQDN to test discovery.',
    userAction: "Check the phone's network cable and sign in again. If it fails again, tell your IT support.",
    cmdlet: 'Test-CsClientAuth -UserSipAddress <sip> -UserCredential <cred> [-TargetFQDN <pool>]',
  },
  REGISTRAR_TIMEOUT: {
    stage: 'logon',
    summary: 'The Registrar accepted the connection but did not answer the sign-in in time.',
    fix: 'Check the Front End service on the pool and the network path, then sign in again.',
    userAction: 'Sign in again in a minute. If it fails again, tell your IT support.',
    cmdlet: 'Test-CsClientAuth -UserSipAddress <sip> -UserCredential <cred> -TargetFQDN <pool>',
  },
  REGISTRAR_TLS_FAILED: {
    stage: 'logon',
    summary: 'The secure connection to the Registrar failed (its certificate is not trusted, expired or for another name).',
    fix: 'Check that the pool certificate names the Registrar FQDN, is within its dates and chains to the pool\'s CA chain (stage 6).',
    userAction: ASK_IT,
    cmdlet: 'Get-CsCertificate',
  },
  REGISTRAR_KEY_TOO_SMALL: {
    stage: 'logon',
    summary: 'The phone\'s key or certificate chain is too weak for TLS (an RSA key under 2048 bits), so the phone could not offer it to the Registrar.',
    fix: 'Run the sign-in again with a 2048-bit phone key (the default; do not pass keyBits 1024). Tether does not lower TLS security to accept RSA-1024; if the pool\'s CA itself uses a 1024-bit key, reissue it with 2048 bits.',
    userAction: 'Sign in again. If the same message comes back, tell IT the phone\'s key is too small.',
  },
  REGISTRAR_CERT_REQUIRED: {
    stage: 'logon',
    summary: 'The Registrar asked for a user certificate (TLS-DSK), and none it accepts was presented.',
    fix: 'Sign in again so the phone obtains its certificate from the Certificate Provisioning service named in the challenge (stages 7 and 8).',
    userAction: 'Start the sign-in again.',
    cmdlet: 'Test-CsClientAuth -UserSipAddress <sip> -UserCredential <cred>',
  },
  REGISTRAR_CERT_REJECTED: {
    stage: 'logon',
    summary: 'The Registrar did not accept the certificate the phone presented in the TLS-DSK sign-in (missing, from another CA, expired, or the handshake was refused).',
    fix: 'Sign in again so the phone gets a new certificate from the pool\'s Certificate Provisioning service (stages 7 and 8); if the pool\'s CA changed, update the phone\'s CA chain first (stage 6). The ms-diagnostics in the detail names the reason.',
    userAction: 'Sign out on the phone and sign in again with your extension and PIN; if it fails again, tell the helpdesk.',
    cmdlet: 'Test-CsClientAuth -UserSipAddress <sip> -UserCredential <cred>',
  },
  REGISTRAR_SIGNATURE_INVALID: {
    stage: 'logon',
    summary: 'The Registrar\'s answer was not signed by the TLS-DSK security association just established (rspauth missing or wrong).',
    fix: 'Something between the phone and the pool changed the answer, or it did not come from the pool: check for proxies or SIP-aware firewalls on the path, then sign in again.',
    userAction: 'Try signing in again; if it keeps failing, tell the helpdesk that the sign-in answer could not be verified.',
  },
  REGISTRAR_FORBIDDEN: {
    stage: 'logon',
    summary: 'The Registrar refused the sign-in: the certificate belongs to another user, or the user is not enabled for Lync.',
    fix: 'Sign in with the user the phone\'s certificate was issued to, or ask the admin to check the account (Get-CsUser) and clear the phone\'s user data.',
    userAction: "Check that you are signing in as the phone's usual user. If you are, tell your IT support that your account may not be set up for desk phones.",
    cmdlet: 'Get-CsUser -Identity <sip>',
  },
  REGISTRAR_REJECTED: {
    stage: 'logon',
    summary: 'The Registrar answered the sign-in with an unexpected SIP error.',
    fix: 'Note the SIP status in the message and check the Front End event log on the pool.',
    userAction: POOL_LATER,
    cmdlet: 'Test-CsClientAuth -UserSipAddress <sip> -UserCredential <cred> -TargetFQDN <pool>',
  },
  REGISTRAR_PROVISIONING_MALFORMED: {
    stage: 'logon',
    summary: 'The Registrar accepted the sign-in but its provisioning values could not be read.',
    fix: 'Check the pool\'s client and device configuration (Get-CsClientPolicy, Get-CsUCPhoneConfiguration); capture the exchange if it happens again.',
    userAction: POOL_LATER,
    cmdlet: 'Get-CsUCPhoneConfiguration',
  },
} as const satisfies ErrorTable;
