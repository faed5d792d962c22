import type { ErrorTable } from '../entry';
import { ASK_IT, POOL_LATER } from './user-actions';

/**
 * Typed errors of the registrar area (stage 9: SIP REGISTER over TLS) and of the SIP message codec
 * the client and the lab share. Texts follow the "Log on to the Lync Server" topic [S13]
 * (../shared/reference/lync-protocols.md §5, §7).
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
  REGISTRAR_CERT_REQUIRED: {
    stage: 'logon',
    summary: 'The Registrar asked for a user certificate (TLS-DSK), and none it accepts was presented.',
    fix: 'Sign in again so the phone obtains its certificate from the Certificate Provisioning service named in the challenge (stages 7 and 8).',
    userAction: 'Start the sign-in again.',
    cmdlet: 'Test-CsClientAuth -UserSipAddress <sip> -UserCredential <cred>',
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
