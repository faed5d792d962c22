import type { InterfaceTriple } from './catalogue';
import { findTetherInterface } from './endpoints';
import { usbErrorFrom } from './errors';
import { UsbFrameLink, type UsbFrameLinkOptions } from './frame-link';

export interface OpenOptions {
  /**
   * Reset the device (USB port reset) before claiming: the phone drops whatever frames of an ended
   * session are still queued in its pipes, so the next handshake starts clean. Used when
   * re-attaching a phone that stayed on the bus after its session failed.
   */
  readonly reset?: boolean;
  /** Tuning of the link (queue depth, close grace). */
  readonly link?: Omit<UsbFrameLinkOptions, 'onClose'>;
}

/**
 * Opens a device, selects the configuration that carries the tether interface, claims it and
 * returns a FrameLink over its bulk endpoints. Each failure is a typed error (no permission,
 * interface busy, no driver, unplugged …). Closing the link releases the interface and the device.
 */
export async function openTetherLink(device: USBDevice, triple?: InterfaceTriple, options: OpenOptions = {}): Promise<UsbFrameLink> {
  const found = findTetherInterface(device, triple);
  try {
    await device.open();
  } catch (err) {
    throw usbErrorFrom(err, 'open');
  }
  const bail = async (err: unknown, op: 'select-configuration' | 'claim' | 'reset'): Promise<never> => {
    await device.close().catch(() => {});
    throw usbErrorFrom(err, op);
  };
  if (options.reset) await device.reset().catch((err: unknown) => bail(err, 'reset'));
  if (device.configuration?.configurationValue !== found.configurationValue) {
    await device.selectConfiguration(found.configurationValue).catch((err: unknown) => bail(err, 'select-configuration'));
  }
  await device.claimInterface(found.interfaceNumber).catch((err: unknown) => bail(err, 'claim'));
  if (found.alternateSetting !== 0) {
    await device.selectAlternateInterface(found.interfaceNumber, found.alternateSetting).catch((err: unknown) => bail(err, 'claim'));
  }
  return new UsbFrameLink(device, found, {
    ...options.link,
    onClose: async () => {
      await device.releaseInterface(found.interfaceNumber).catch(() => {});
      await device.close().catch(() => {});
    },
  });
}
