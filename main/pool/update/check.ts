import { TetherError } from '../../../common/errors';
import {
  decodeDeviceUpdateResponse,
  DEVICE_UPDATE_CONTENT_TYPE,
  encodeDeviceUpdateRequest,
  MAX_DEVICE_UPDATE_XML,
  type DeviceIdentity,
  type DeviceUpdateAnswer,
} from '../../../common/pool/device-update-wire';
import { networkReason, readSmallBody, send, type UpdateHttpOptions } from './http';

/** The request handler path on the internal Web Services site [S21][S24]. */
export const DEVICE_UPDATE_PATH = '/RequestHandler/ucdevice.upx';
export const DEVICE_UPDATE_EXTERNAL_PATH = '/RequestHandlerExt/ucdevice.upx';

/** `https://ucupdates-r2.<domain>` → its ucdevice.upx URL; a full URL is used as given. */
export function deviceUpdateUrl(base: string): URL {
  const u = new URL(base);
  if (u.pathname === '/' || u.pathname === '') u.pathname = DEVICE_UPDATE_PATH;
  return u;
}

/**
 * Stage 4: asks the Device Update Web service what this phone should run (HTTP POST to
 * ucdevice.upx with the phone's identity [S21]). Resolves with the answer; no modules = no update.
 */
export async function checkForUpdate(serviceUrl: string | URL, identity: DeviceIdentity, options: UpdateHttpOptions = {}): Promise<DeviceUpdateAnswer> {
  const url = typeof serviceUrl === 'string' ? deviceUpdateUrl(serviceUrl) : serviceUrl;
  const body = encodeDeviceUpdateRequest(identity);
  let res;
  try {
    res = await send(url, { method: 'POST', headers: { 'Content-Type': DEVICE_UPDATE_CONTENT_TYPE }, body }, options);
  } catch (err) {
    throw new TetherError('UPDATE_SERVICE_UNREACHABLE', `${url.origin}: ${networkReason(err)}.`, {
      detail: { url: url.href },
      cause: err,
    });
  }
  const status = res.statusCode ?? 0;
  if (status === 401 || status === 403) {
    res.resume();
    throw new TetherError('UPDATE_ANONYMOUS_DENIED', `${url.href} refused the anonymous request (HTTP ${status}).`, { detail: { url: url.href, status } });
  }
  if (status >= 500) {
    res.resume();
    throw new TetherError('UPDATE_SERVICE_ERROR', `${url.href} answered HTTP ${status}.`, { detail: { url: url.href, status } });
  }
  if (status !== 200) {
    res.resume();
    throw new TetherError('UPDATE_RESPONSE_MALFORMED', `${url.href} answered HTTP ${status} instead of 200.`, { detail: { url: url.href, status } });
  }
  let xml: Buffer;
  try {
    xml = await readSmallBody(res, MAX_DEVICE_UPDATE_XML);
  } catch (err) {
    if (err instanceof TetherError) throw err;
    throw new TetherError('UPDATE_SERVICE_UNREACHABLE', `${url.origin}: the answer was cut off (${networkReason(err)}).`, { cause: err });
  }
  return decodeDeviceUpdateResponse(xml);
}
