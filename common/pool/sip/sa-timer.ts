/**
 * The security association's expiry timer [MS-SIPAE §3.2.2, as SIPE quotes it in
 * sip-transport.c]: the lesser of the certificate's expiry (TLS-DSK) and eight hours, less a
 * buffer that leaves time for the new handshake, which SHOULD be five minutes or more.
 */

export const SA_MAX_LIFETIME_MS = 8 * 3600_000;
export const SA_REFRESH_MARGIN_MS = 5 * 60_000;

/** Milliseconds from `nowMs` after which the client must authenticate afresh. */
export function securityAssociationRefreshMs(nowMs: number, certNotAfter: Date | null): number {
  const untilCert = certNotAfter === null ? SA_MAX_LIFETIME_MS : certNotAfter.getTime() - nowMs;
  const lifetime = Math.max(0, Math.min(untilCert, SA_MAX_LIFETIME_MS));
  // A lifetime shorter than the margin still gets half of itself, never a busy loop at zero.
  return lifetime > SA_REFRESH_MARGIN_MS ? lifetime - SA_REFRESH_MARGIN_MS : Math.floor(lifetime / 2);
}

/** Re-register this long before the registration itself lapses (SIPE: 30 s). */
export const REGISTRATION_REFRESH_MARGIN_S = 30;

/** When to register again: before the registration lapses and before the SA expires. */
export function nextRegistrationMs(expiresSeconds: number | null, refreshAfterMs: number | null): number {
  const byExpiry = expiresSeconds === null ? Number.POSITIVE_INFINITY : (expiresSeconds > REGISTRATION_REFRESH_MARGIN_S ? expiresSeconds - REGISTRATION_REFRESH_MARGIN_S : expiresSeconds) * 1000;
  const next = Math.min(byExpiry, refreshAfterMs ?? Number.POSITIVE_INFINITY);
  return Number.isFinite(next) ? next : SA_MAX_LIFETIME_MS - SA_REFRESH_MARGIN_MS;
}
