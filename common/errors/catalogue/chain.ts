import type { ErrorTable } from '../entry';
import { ASK_IT } from './user-actions';

/**
 * Typed errors of the chain area (stage 6: download the pool's root CA chain and decide whether to
 * trust it). Texts follow the "Connect to Web Service / Download Root CA chain" topic [S10] and the
 * known USB-tethering failure with an intermediate CA [S36] (../shared/reference/lync-protocols.md).
 */
export const chainErrors = {
  CHAIN_SERVICE_UNREACHABLE: {
    stage: 'ca-chain',
    summary: 'Unable to locate Lync Certificate Web service: the chain download address did not answer.',
    fix: 'Check the Web Services address (DHCP option 43 for MS-UC-Client, or the pool FQDN): correct it if it is wrong or stale, then reset the phone.',
    userAction: "Check the phone's network cable and try again. If it fails again, tell your IT support.",
    cmdlet: 'Test-CsPhoneBootstrap -PhoneOrExt <number> -PIN <pin> -Verbose',
  },
  CHAIN_DOWNLOAD_OFF: {
    stage: 'ca-chain',
    summary: 'Error downloading certificate chain from OCS Registrar: the pool does not hand out its CA chain.',
    fix: 'Ask the Lync admin to turn certificate chain download on (Set-CsWebServiceConfiguration -EnableCertChainDownload $true), then reset the phone.',
    userAction: ASK_IT,
    cmdlet: 'Get-CsWebServiceConfiguration',
  },
  CHAIN_MALFORMED: {
    stage: 'ca-chain',
    summary: 'The CA chain the pool sent cannot be read (not PKCS#7 or PEM certificates).',
    fix: 'Check that the Web Services address points at the Lync pool and that no proxy rewrites the answer; the pool\'s TrustedCACerts must hold valid certificates.',
    userAction: ASK_IT,
    cmdlet: 'Get-CsWebServiceConfiguration',
  },
  CHAIN_ROOT_MISSING: {
    stage: 'ca-chain',
    summary: 'The CA chain the pool sent has no self-signed root certificate.',
    fix: 'Ask the Lync admin to add the root CA to the chain the pool hands out (TrustedCACerts in the Web service configuration).',
    userAction: ASK_IT,
    cmdlet: 'Get-CsWebServiceConfiguration',
  },
  CHAIN_INTERMEDIATE_MISSING: {
    stage: 'ca-chain',
    summary: 'An intermediate CA is missing: the pool\'s certificate does not chain to the root CA chain that was downloaded (the known USB-tethering failure).',
    fix: 'Ask the Lync admin to include every intermediate CA in the chain the pool hands out (TrustedCACerts), or to issue the pool certificate from the root directly; then sign in again.',
    userAction: ASK_IT,
    cmdlet: 'Get-CsWebServiceConfiguration',
  },
  CHAIN_BAD_SIGNATURE: {
    stage: 'ca-chain',
    summary: 'A certificate in the CA chain was not signed by the CA it names as its issuer.',
    fix: 'Do not trust this chain: check that nothing on the network rewrites the pool\'s answers, and ask the Lync admin to re-publish the CA chain.',
    userAction: 'Stop and tell your IT support; do not sign in on this network until they have checked it.',
  },
  CHAIN_NOT_CA: {
    stage: 'ca-chain',
    summary: 'A certificate used as a CA in the chain is not marked as a CA (basic constraints).',
    fix: 'Ask the PKI admin to reissue the intermediate CA with basic constraints CA:TRUE and publish it in the chain.',
    userAction: ASK_IT,
  },
  CHAIN_PATH_LENGTH: {
    stage: 'ca-chain',
    summary: 'A CA in the chain has more CA certificates below it than its path length (basic constraints pathLenConstraint) allows.',
    fix: 'Ask the PKI admin to reissue the CA named in the message with a path length that covers the intermediates below it, or to issue the pool certificate from a CA higher up; then publish the new chain.',
    userAction: ASK_IT,
  },
  CHAIN_CA_KEY_USAGE: {
    stage: 'ca-chain',
    summary: 'A CA in the chain signs certificates although its key usage does not allow it (keyCertSign missing).',
    fix: 'Ask the PKI admin to reissue the CA named in the message with key usage keyCertSign (Certificate Signing) and publish the new chain.',
    userAction: ASK_IT,
  },
  CHAIN_CERT_EXPIRED: {
    stage: 'ca-chain',
    summary: 'A certificate in the CA chain has expired or is not valid yet.',
    fix: 'Check the date and time on this PC; if they are right, ask the PKI admin to renew the CA certificate named in the message and publish the new chain.',
    userAction: "Check that this computer's date and time are right, then try again. If they are, tell your IT support.",
  },
  CHAIN_ROOT_UNTRUSTED: {
    stage: 'ca-chain',
    summary: 'The pool\'s root CA is not trusted by this PC and is not pinned.',
    fix: 'Compare the root fingerprint shown with the one your Lync admin gives you; accept it only if they match (or install a kiosk bundle that pins it).',
    userAction: 'Accept only if your IT support confirms the fingerprint Tether shows; otherwise stop and ask them.',
  },
  CHAIN_SERVER_MISMATCH: {
    stage: 'ca-chain',
    summary: 'The pool\'s TLS certificate could not be verified with the downloaded CA chain.',
    fix: 'Check that the pool certificate names this server and is within its dates, and that it was issued by the CA the pool hands out.',
    userAction: 'Stop and tell your IT support; do not sign in on this network until they have checked it.',
    cmdlet: 'Get-CsCertificate',
  },
} as const satisfies ErrorTable;
