import { describe, expect, it } from 'vitest';
import { nextRegistrationMs, securityAssociationRefreshMs } from '../../../../common/pool/sip';

const H = 3600_000;
const M = 60_000;
// A fixed "now": the timer is a function of two instants, never of the wall clock.
const NOW = Date.UTC(2026, 0, 1);

describe('security association timer (MS-SIPAE §3.2.2)', () => {
  it('takes the lesser of the certificate expiry and eight hours, less five minutes', () => {
    expect(securityAssociationRefreshMs(NOW, new Date(NOW + 365 * 24 * H))).toBe(8 * H - 5 * M);
    expect(securityAssociationRefreshMs(NOW, new Date(NOW + 2 * H))).toBe(2 * H - 5 * M);
    expect(securityAssociationRefreshMs(NOW, null)).toBe(8 * H - 5 * M);
  });

  it('never returns a busy loop: a lifetime under the margin gets half of itself, an expired one zero', () => {
    expect(securityAssociationRefreshMs(NOW, new Date(NOW + 4 * M))).toBe(2 * M);
    expect(securityAssociationRefreshMs(NOW, new Date(NOW - H))).toBe(0);
  });

  it('re-registers before the registration lapses (30 s early) or the SA expires, whichever is first', () => {
    expect(nextRegistrationMs(3600, 8 * H - 5 * M)).toBe(3570_000);
    expect(nextRegistrationMs(3600, 25 * M)).toBe(25 * M);
    expect(nextRegistrationMs(20, null)).toBe(20_000);
    expect(nextRegistrationMs(null, null)).toBe(8 * H - 5 * M);
  });
});
