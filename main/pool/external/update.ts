import { TetherError } from '../../../common/errors';
import type { DeviceIdentity, DeviceUpdateAnswer } from '../../../common/pool/device-update-wire';
import type { PoolHttpClient } from '../net/http';
import { checkForUpdate } from '../update';
import { requireExternalTls } from './tls-only';

/**
 * Stage 4 outside the corporate network: POST to https://<ext>/RequestHandlerExt/ucdevice.upx.
 * A device that has not signed in is denied; one that has is told anonymous access is not
 * supported and retries with authenticated HTTPS [S19] — here, TLS with the user certificate from
 * the internal sign-in (OUR MODEL of "authenticated", docs/pool/external.md).
 */

export interface ExternalUpdateInput {
  /** The external Device Update URL saved at the internal sign-in. */
  readonly url: string;
  readonly identity: DeviceIdentity;
  /** TLS client without a client certificate (trusting the saved chain only). */
  readonly anonymous: PoolHttpClient;
  /** TLS client presenting the user certificate; null when none is at hand. */
  readonly authenticated: PoolHttpClient | null;
}

export interface ExternalUpdateResult {
  readonly answer: DeviceUpdateAnswer;
  /** True when the answer came on the authenticated retry. */
  readonly authenticated: boolean;
  /** True when the anonymous request was refused first (as Lync does outside [S19]). */
  readonly anonymousRefused: boolean;
}

export async function checkExternalUpdate(input: ExternalUpdateInput): Promise<ExternalUpdateResult> {
  const url = requireExternalTls(input.url, 'Device Update', 'check-update');
  try {
    return { answer: await checkForUpdate(url, input.identity, { http: input.anonymous }), authenticated: false, anonymousRefused: false };
  } catch (err) {
    if (!TetherError.is(err, 'UPDATE_ANONYMOUS_DENIED')) throw err;
    if (input.authenticated === null) {
      throw new TetherError(
        'EXTERNAL_NEEDS_INTERNAL_SIGN_IN',
        `${url.origin}${url.pathname} does not answer anonymous devices outside the corporate network, and no certificate from an internal sign-in is at hand.`,
        { stage: 'check-update', detail: { url: `${url.origin}${url.pathname}` }, cause: err },
      );
    }
  }
  try {
    return { answer: await checkForUpdate(url, input.identity, { http: input.authenticated }), authenticated: true, anonymousRefused: true };
  } catch (err) {
    if (!TetherError.is(err, 'UPDATE_ANONYMOUS_DENIED')) throw err;
    throw new TetherError('EXTERNAL_UPDATE_CERT_REFUSED', `${url.origin}${url.pathname} refused the certificate from the internal sign-in too.`, {
      detail: { url: `${url.origin}${url.pathname}` },
      cause: err,
    });
  }
}
