import { TetherError, type ErrorCode } from '../../common/errors';

/** What Tether was doing on the bus when something failed; goes into the error's detail. */
export type UsbOperation =
  | 'load'
  | 'list'
  | 'open'
  | 'select-configuration'
  | 'claim'
  | 'transfer-in'
  | 'transfer-out'
  | 'clear-halt'
  | 'release'
  | 'reset'
  | 'close';

/** The platform hint that goes with a permission or driver problem, in the user's words. */
export function platformHint(code: 'USB_NO_PERMISSION' | 'USB_NO_DRIVER', platform: NodeJS.Platform = process.platform): string {
  if (platform === 'linux') {
    return 'Install Tether\'s udev rule: sudo cp native/usb/70-tether.rules /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger, then replug the phone (docs/usb.md).';
  }
  if (platform === 'win32') {
    return 'Bind the phone\'s tether interface to WinUSB with Zadig (Options → List All Devices → the phone\'s Tether interface → WinUSB → Replace Driver), then replug the phone (docs/usb.md).';
  }
  if (platform === 'darwin') {
    return code === 'USB_NO_PERMISSION'
      ? 'Allow Tether to use USB accessories (System Settings → Privacy & Security → Allow accessories to connect) and replug the phone.'
      : 'Replug the phone; macOS needs no driver for the tether interface.';
  }
  return 'Give this user read/write access to the phone\'s USB device node, then replug the phone.';
}

/**
 * The libusb name in a thrown error. node-usb throws `Error('LIBUSB_ERROR_ACCESS')` with an errno
 * and its WebUSB wrapper re-wraps it as `Error('open error: Error: LIBUSB_ERROR_ACCESS')`, so the
 * name is found in the message; browsers' WebUSB throws DOMExceptions named by kind instead.
 */
function libusbName(err: unknown): string | null {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const m = /LIBUSB_(?:ERROR|TRANSFER)_[A-Z_]+/.exec(text);
  return m ? m[0] : null;
}

function domName(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const name = (err as { name?: unknown }).name;
  return typeof name === 'string' && name !== 'Error' ? name : null;
}

function pick(name: string | null, dom: string | null, op: UsbOperation, message: string): ErrorCode {
  switch (name) {
    case 'LIBUSB_ERROR_ACCESS':
      return 'USB_NO_PERMISSION';
    case 'LIBUSB_ERROR_BUSY':
      return 'USB_INTERFACE_BUSY';
    case 'LIBUSB_ERROR_NOT_SUPPORTED':
      // On Windows libusb answers NOT_SUPPORTED when no WinUSB/libusbK driver is bound.
      return op === 'open' || op === 'claim' ? 'USB_NO_DRIVER' : 'USB_TRANSFER_FAILED';
    case 'LIBUSB_ERROR_NO_DEVICE':
    case 'LIBUSB_TRANSFER_NO_DEVICE':
    case 'LIBUSB_ERROR_NOT_FOUND':
      return 'USB_DISCONNECTED';
    case 'LIBUSB_ERROR_PIPE':
    case 'LIBUSB_TRANSFER_STALL':
      return 'USB_STALL';
    case 'LIBUSB_ERROR_OVERFLOW':
    case 'LIBUSB_TRANSFER_OVERFLOW':
      return 'USB_BABBLE';
    case 'LIBUSB_ERROR_TIMEOUT':
    case 'LIBUSB_TRANSFER_TIMED_OUT':
      return 'TIMEOUT';
    case 'LIBUSB_TRANSFER_CANCELLED':
      return 'USB_LINK_CLOSED';
    default:
      break;
  }
  switch (dom) {
    case 'SecurityError':
    case 'NotAllowedError':
      // NotAllowedError: the user or a permissions policy refused access to the device.
      return 'USB_NO_PERMISSION';
    case 'NotFoundError':
      // Also "configuration/interface/endpoint not found" while opening: the descriptors lied.
      return op === 'transfer-in' || op === 'transfer-out' || op === 'clear-halt' || /disconnect/i.test(message) ? 'USB_DISCONNECTED' : 'USB_NOT_A_PHONE';
    case 'NetworkError':
      // Chrome's WebUSB: "Unable to claim interface" when another program holds it; otherwise a
      // transfer on a device that went away.
      return op === 'claim' ? 'USB_INTERFACE_BUSY' : 'USB_DISCONNECTED';
    case 'AbortError':
      return 'USB_LINK_CLOSED';
    case 'InvalidStateError':
      // WebUSB's word for "the device is not open / the interface is not claimed": on a transfer
      // or release that means our own link was closed under it.
      return op === 'open' || op === 'select-configuration' || op === 'claim' || op === 'reset' ? 'USB_TRANSFER_FAILED' : 'USB_LINK_CLOSED';
    default:
      return 'USB_TRANSFER_FAILED';
  }
}

/** Maps whatever a USBDevice threw into a typed, plain-language error. TetherErrors pass through. */
export function usbErrorFrom(err: unknown, op: UsbOperation, platform: NodeJS.Platform = process.platform): TetherError {
  if (err instanceof TetherError) return err;
  const name = libusbName(err);
  const code = pick(name, domName(err), op, err instanceof Error ? err.message : '');
  const detail = { op, platform, libusb: name };
  if (code === 'USB_NO_PERMISSION' || code === 'USB_NO_DRIVER') {
    return new TetherError(code, `${new TetherError(code).message} ${platformHint(code, platform)}`, { detail, cause: err });
  }
  return new TetherError(code, undefined, { detail, cause: err });
}
