import { createHash, randomBytes } from 'node:crypto';
import type { PhoneModel } from '../../usb/catalogue';
import type { DeviceIdentity } from '../../protocol/messages';

/** A serial for a phone made without one: model id and 8 random hex digits, e.g. CX600-3FA81C02. */
export function randomSerial(model: PhoneModel): string {
  return `${model.id}-${randomBytes(4).toString('hex').toUpperCase()}`;
}

/**
 * The phone's Ethernet MAC, derived from its serial so it is stable across runs. It is a locally
 * administered address (first octet 0x02): a virtual phone never claims a vendor's OUI.
 */
export function macForSerial(serial: string): string {
  const h = createHash('sha256').update(`tether-virtual-mac:${serial}`).digest();
  const octets = [0x02, h[0]!, h[1]!, h[2]!, h[3]!, h[4]!];
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

export function identityOf(model: PhoneModel, serial: string, firmwareVersion: string): DeviceIdentity {
  return {
    modelId: model.id,
    serial,
    hardwareRevision: model.hardwareRevision,
    firmwareVersion,
    mac: macForSerial(serial),
    locale: model.locale,
  };
}
