import type { ErrorTable } from '../entry';
import { POOL_LATER, RETRY_THEN_IT } from './user-actions';

/**
 * Typed errors of the pool transport: the safe XML parser and the HTTP client. These belong to
 * whichever stage made the call, so the catalogue says `null` and every caller passes its stage
 * (Device Update → check-update, chain download → ca-chain, WebTicket → auth, CertProv → certificate).
 */
export const transportErrors = {
  XML_TOO_LARGE: {
    stage: null,
    summary: 'The server sent an XML document larger than Tether accepts.',
    fix: 'Check that the URL points at the right Lync Web service; a proxy or a wrong page can send a huge answer.',
    userAction: POOL_LATER,
  },
  XML_DTD_FORBIDDEN: {
    stage: null,
    summary: 'The server sent XML with a DOCTYPE or ENTITY declaration, which SOAP forbids; Tether refused it.',
    fix: 'Check that the URL points at the real Lync Web service and that nothing between Tether and the pool rewrites its answers.',
    userAction: 'Stop and tell your IT support; something on the network sent an answer Tether will not trust.',
  },
  XML_ENTITY_UNDEFINED: {
    stage: null,
    summary: 'The server sent XML that uses an entity other than the five predefined ones; Tether does not expand entities.',
    fix: 'Check that the URL points at the real Lync Web service and that nothing between Tether and the pool rewrites its answers.',
    userAction: 'Stop and tell your IT support; something on the network sent an answer Tether will not trust.',
  },
  XML_MALFORMED: {
    stage: null,
    summary: 'The server sent an answer that is not well-formed XML.',
    fix: 'Check that the URL points at the right Lync Web service; save a diagnostics bundle if the pool itself answers this way.',
    userAction: POOL_LATER,
  },
  XML_UNEXPECTED: {
    stage: null,
    summary: 'The server sent well-formed XML that lacks an element Tether needs.',
    fix: 'Check that the pool runs a supported Lync Server version and that the URL points at the right Web service.',
    userAction: POOL_LATER,
  },
  HTTP_BAD_URL: {
    stage: null,
    summary: 'The Web service address is not a valid http or https URL.',
    fix: 'Correct the URL (for example https://pool01.contoso.com/CertProv/CertProvisioningService.svc).',
    userAction: 'Check the address you typed (it starts with https://), or ask your IT support for the right one.',
  },
  HTTP_DNS_FAILED: {
    stage: null,
    summary: 'The pool server\'s name could not be resolved in DNS.',
    fix: 'Check that the DNS server in use has an A record for the name in the message, and that the PC uses that DNS server.',
    userAction: 'Check that this computer is connected to the office network, then try again.',
    cmdlet: 'Resolve-DnsName <name>',
  },
  HTTP_CONNECT_REFUSED: {
    stage: null,
    summary: 'The pool server refused the connection.',
    fix: 'Check that the Lync Web services (IIS) run on the server and that the port in the URL is right.',
    userAction: POOL_LATER,
  },
  HTTP_CONNECT_FAILED: {
    stage: null,
    summary: 'Tether could not reach the pool server, or the connection broke.',
    fix: 'Check the network path and firewalls between this PC and the pool, then try again.',
    userAction: 'Check that this computer is connected to the office network, then try again.',
  },
  TLS_CERT_EXPIRED: {
    stage: null,
    summary: 'The pool server\'s HTTPS certificate has expired (or is not valid yet).',
    fix: 'Renew the Web services certificate on the pool (Request-CsCertificate, Set-CsCertificate) and check the PC\'s clock.',
    userAction: "Check that this computer's date and time are right, then try again. If they are, tell your IT support.",
    cmdlet: 'Get-CsCertificate',
  },
  TLS_CERT_NAME_MISMATCH: {
    stage: null,
    summary: 'The pool server\'s HTTPS certificate does not name the server Tether connected to.',
    fix: 'Reissue the Web services certificate with this FQDN in its subject alternative names, or correct the URL / DHCP option 43.',
    userAction: 'Stop and tell your IT support; Tether did not trust the server it reached.',
    cmdlet: 'Get-CsCertificate',
  },
  TLS_CERT_UNTRUSTED: {
    stage: null,
    summary: 'The pool server\'s HTTPS certificate was issued by a CA this PC does not trust.',
    fix: 'Install the pool\'s root CA (and any intermediate on the server), or give Tether the CA file with --ca.',
    userAction: 'Stop and tell your IT support; Tether did not trust the server it reached.',
    cmdlet: 'Get-CsCertificate',
  },
  TLS_HANDSHAKE_FAILED: {
    stage: null,
    summary: 'The secure (TLS) connection to the pool server failed.',
    fix: 'Check the server\'s TLS configuration and certificate; save a diagnostics bundle if it persists.',
    userAction: RETRY_THEN_IT,
  },
  HTTP_TIMEOUT: {
    stage: null,
    summary: 'The pool server did not answer in time.',
    fix: 'Check the network and the server\'s load, then try again.',
    userAction: 'Check that this computer is connected to the network, then try again.',
  },
  HTTP_SERVER_ERROR: {
    stage: null,
    summary: 'The pool server answered with an internal error (HTTP 5xx).',
    fix: 'Check the Lync Server event log and IIS logs on the pool for the time of the error.',
    userAction: POOL_LATER,
  },
  HTTP_UNEXPECTED_STATUS: {
    stage: null,
    summary: 'The pool server answered with an HTTP status Tether did not expect.',
    fix: 'Check that the URL points at the right Lync Web service; the status is in the message.',
    userAction: POOL_LATER,
  },
  HTTP_RESPONSE_TOO_LARGE: {
    stage: null,
    summary: 'The pool server sent a larger answer than Tether accepts.',
    fix: 'Check that the URL points at the right Lync Web service or file.',
    userAction: POOL_LATER,
  },
  HTTP_PROTOCOL_ERROR: {
    stage: null,
    summary: 'The pool server sent an answer that is not valid HTTP.',
    fix: 'Check that the URL and port point at the Lync Web services and not at another service.',
    userAction: POOL_LATER,
  },
} as const satisfies ErrorTable;
