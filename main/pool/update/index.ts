import { TetherError } from '../../../common/errors';
import type { DeviceIdentity, DeviceUpdateAnswer } from '../../../common/pool/device-update-wire';
import type { ImageCache, CachedImage } from './cache';
import { checkForUpdate } from './check';
import type { UpdateHttpOptions } from './http';

export { ImageCache, type CachedFile, type CachedImage } from './cache';
export { checkForUpdate, deviceUpdateUrl, DEVICE_UPDATE_PATH, DEVICE_UPDATE_EXTERNAL_PATH } from './check';
export { downloadVerified, type ExpectedImage } from './download';
export { DOWNLOAD_TIMEOUTS, type UpdateHttpOptions } from './http';
export { deviceUpdateIdentity, LPE_DEVICE_TYPE, LPE_IMAGE_FILE } from './identity';

export interface UpdateResult {
  readonly answer: DeviceUpdateAnswer;
  /** Verified images on disk (each with its signature file), one per offered module; empty when there is no update. */
  readonly images: CachedImage[];
}

/**
 * Stage 4 for one phone: ask the Device Update service, then fetch every offered file through the
 * shared cache (internal BaseURL first, as the phone does inside the firewall).
 */
export async function fetchUpdate(
  serviceUrl: string | URL,
  identity: DeviceIdentity,
  cache: ImageCache,
  options: UpdateHttpOptions & { useExternal?: boolean },
): Promise<UpdateResult> {
  const answer = await checkForUpdate(serviceUrl, identity, options);
  if (answer.modules.length === 0) return { answer, images: [] };
  const base = options.useExternal ? (answer.externalBaseUrl ?? answer.baseUrl) : (answer.baseUrl ?? answer.externalBaseUrl);
  if (base === null) throw new TetherError('UPDATE_RESPONSE_MALFORMED', 'The answer offers modules but no BaseURL.');
  const images = await Promise.all(answer.modules.map((m) => cache.get(identity, m, base, options)));
  return { answer, images };
}
