import { TetherError } from '../../../common/errors';
import {
  decodeDeviceUpdateResponse,
  DEVICE_UPDATE_CONTENT_TYPE,
  encodeDeviceUpdateRequest,
  MAX_DEVICE_UPDATE_XML,
  type DeviceIdentity,
  type DeviceUpdateAnswer,
} from '../../../common/pool/device-update-wire';
import { reachError, type UpdateHttpOptions } from './http';

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
export async function checkForUpdate(serviceUrl: string | URL, identity: DeviceIdentity, options: UpdateHttpOptions): Promise<DeviceUpdateAnswer> {
  let url: URL;
  try {
    url = typeof serviceUrl === 'string' ? deviceUpdateUrl(serviceUrl) : serviceUrl;
  } catch (cause) {
    throw new TetherError('BAD_INPUT', `'${String(serviceUrl).slice(0, 100)}' is not a Device Update address (https://ucupdates-r2.<domain>).`, { stage: 'find-update', cause });
  }
  const body = encodeDeviceUpdateRequest(identity);
  let res;
  try {
    res = await options.http.request({
      url,
      method: 'POST',
      headers: { 'Content-Type': DEVICE_UPDATE_CONTENT_TYPE },
      body,
      // Not reaching the service at all is stage 3; what it answers is stage 4.
      stage: 'find-update',
      maxResponseBytes: MAX_DEVICE_UPDATE_XML,
      acceptStatus: () => true,
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof TetherError && err.code === 'HTTP_RESPONSE_TOO_LARGE') {
      throw new TetherError('UPDATE_RESPONSE_MALFORMED', `The Device Update answer exceeds ${MAX_DEVICE_UPDATE_XML} bytes.`, { cause: err });
    }
    throw reachError(err, url, 'find-update');
  }
  const where = { url: `${url.origin}${url.pathname}`, status: res.status };
  if (res.status === 401 || res.status === 403) {
    throw new TetherError('UPDATE_ANONYMOUS_DENIED', `${where.url} refused the anonymous request (HTTP ${res.status}).`, { detail: where });
  }
  if (res.status >= 500) throw new TetherError('UPDATE_SERVICE_ERROR', `${where.url} answered HTTP ${res.status}.`, { detail: where });
  if (res.status !== 200) throw new TetherError('UPDATE_RESPONSE_MALFORMED', `${where.url} answered HTTP ${res.status} instead of 200.`, { detail: where });
  return decodeDeviceUpdateResponse(res.body);
}
