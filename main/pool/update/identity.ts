import type { DeviceIdentity } from '../../../common/pool/device-update-wire';
import type { PhoneModel } from '../../../native/usb/catalogue';

/** Device type every Lync Phone Edition phone reports in the store path [S21]. */
export const LPE_DEVICE_TYPE = 'UCPhone';
/** The image file our model names (docs/pool/device-update.md); the real name is not published. */
export const LPE_IMAGE_FILE = 'CPE.nbt';

/**
 * The identity Tether sends on a tethered phone's behalf: catalogue model (vendor, model id,
 * hardware revision, locale) plus what the phone reported over USB (serial, MAC, running version).
 */
export function deviceUpdateIdentity(
  model: Pick<PhoneModel, 'vendor' | 'id' | 'hardwareRevision' | 'locale'>,
  phone: { serial: string; mac: string; runningVersion: string; lastUser?: string },
): DeviceIdentity {
  return {
    deviceType: LPE_DEVICE_TYPE,
    mac: phone.mac,
    serial: phone.serial,
    vendor: model.vendor,
    model: model.id,
    revision: model.hardwareRevision,
    locale: model.locale,
    modules: [{ fileName: LPE_IMAGE_FILE, version: phone.runningVersion, timestamp: '' }],
    ...(phone.lastUser === undefined ? {} : { lastUser: phone.lastUser }),
  };
}
