/**
 * TLS server options, server side only: ask the client for a certificate and have OpenSSL verify it
 * against the server's `ca`, but let a handshake without a good one finish, so the server answers
 * with its protocol's own documented error (a SIP 401 with ms-diagnostics, an HTTP 401) instead of a
 * bare TLS alert. Every user reads `socket.authorized` before it trusts the peer. This is not a
 * switch on a client's verification of a server: that is never turned off.
 */
export const OPTIONAL_CLIENT_CERTIFICATE = { requestCert: true, rejectUnauthorized: false } as const;
