import type { ErrorTable } from '../entry';
import { OTHER_CABLE, RETRY_FIRMWARE } from './user-actions';

const UDEV = 'On Linux, install the udev rule (docs/usb.md: copy native/usb/70-tether.rules to /etc/udev/rules.d/, run `sudo udevadm control --reload && sudo udevadm trigger`, then replug the phone).';
const WINUSB = 'On Windows, bind the phone\'s tether interface to the WinUSB driver (docs/usb.md: Zadig → Options → List All Devices → pick the phone\'s "Tether" interface → WinUSB → Replace Driver).';

/** Typed errors of the usb area: code → stage, summary and fix. */
export const usbErrors = {
  USB_UNAVAILABLE: {
    stage: null,
    summary: 'The USB library (libusb through node-usb) could not be loaded on this computer.',
    fix: 'Reinstall Tether; on Linux make sure libudev is installed (it ships with every desktop distribution). Virtual phones still work.',
    userAction: 'Ask your IT support to reinstall Tether on this computer.',
  },
  USB_NO_BUS: {
    stage: null,
    summary: 'This computer (or container) has no USB bus that Tether can see, so no real phone can be found.',
    fix: 'Run Tether on the computer the phone is plugged into; in a container or VM, pass the USB bus through (for example --device /dev/bus/usb). Virtual phones still work.',
    userAction: 'Run Tether on the computer the phone is plugged into.',
  },
  USB_NO_PERMISSION: {
    stage: null,
    summary: 'The phone is plugged in but this user is not allowed to open it.',
    fix: `${UDEV} ${WINUSB}`,
    userAction: 'Ask your IT support to allow Tether to use USB phones on this computer, then plug the phone in again.',
  },
  USB_NO_DRIVER: {
    stage: null,
    summary: 'The phone is plugged in but no driver that Tether can use is bound to its tether interface.',
    fix: WINUSB,
    userAction: "Ask your IT support to set up the phone's USB driver on this computer, then plug the phone in again.",
  },
  USB_INTERFACE_BUSY: {
    stage: null,
    summary: 'Another program is holding the phone\'s tether interface.',
    fix: 'Close the other program that talks to the phone (another Tether window, the Lync client\'s USB helper, a virtual-machine USB pass-through), then replug the phone.',
    userAction: 'Close any other program or Tether window that may be using the phone, then unplug the phone and plug it back in.',
  },
  USB_NOT_A_PHONE: {
    stage: null,
    summary: 'The USB device does not offer the tether interface with one bulk IN and one bulk OUT endpoint.',
    fix: 'Check that the device is a supported phone (tether devices lists them) and that its firmware is a Lync Phone Edition build.',
    userAction: 'Check that you plugged in a supported desk phone; other USB devices cannot be signed in.',
  },
  USB_DISCONNECTED: {
    stage: null,
    summary: 'The phone was unplugged or reset while Tether was talking to it.',
    fix: 'Plug the phone back in; Tether finds it again by its serial number and carries on.',
    userAction: 'Plug the phone back in and leave the cable in until Tether says it is done.',
  },
  USB_STALL: {
    stage: null,
    summary: 'The phone refused a USB transfer (endpoint stall); Tether cleared it.',
    fix: 'Try again; if it keeps happening, replug the phone or restart it.',
    userAction: 'Try again. If it keeps happening, unplug the phone and plug it back in, or restart the phone.',
  },
  USB_BABBLE: {
    stage: null,
    summary: 'The phone sent more data than the transfer could hold (babble).',
    fix: 'Replug the phone; if it keeps happening, try another cable or USB port (avoid unpowered hubs).',
    userAction: OTHER_CABLE,
  },
  USB_FRAME_TOO_LONG: {
    stage: null,
    summary: 'The phone sent a frame longer than the tether protocol allows.',
    fix: 'Replug the phone; if it keeps happening, update the phone\'s firmware.',
    userAction: 'Unplug the phone and plug it back in. If it keeps happening, tell your IT support.',
  },
  USB_TRANSFER_FAILED: {
    stage: null,
    summary: 'A USB transfer to or from the phone failed.',
    fix: 'Try another cable or USB port (avoid unpowered hubs), then replug the phone.',
    userAction: OTHER_CABLE,
  },
  USB_LINK_CLOSED: {
    stage: null,
    summary: 'The USB link to the phone was already closed.',
    fix: 'Attach the phone again.',
    userAction: 'Plug the phone in again.',
  },
  USB_REATTACH_TIMEOUT: {
    stage: null,
    summary: 'The phone did not come back on USB after it was unplugged, reset or restarted.',
    fix: 'Plug the phone in again and wait for it to finish starting; if it does not start, power-cycle it.',
    userAction: 'Make sure the phone is plugged in and wait until it has finished starting. If it does not start, unplug its power for a few seconds and plug it back in.',
  },
  FIRMWARE_IMAGE_UNREADABLE: {
    stage: 'check-update',
    summary: 'The firmware image could not be read from disk.',
    fix: 'Check that the image file exists and is readable, or download the update again.',
    userAction: 'Try again. If it fails again, tell your IT support.',
  },
  FIRMWARE_IMAGE_CHANGED: {
    stage: 'check-update',
    summary: 'The firmware image changed on disk while Tether was sending it.',
    fix: 'Download the update again and restart the update.',
    userAction: 'Start the sign-in again.',
  },
  FIRMWARE_REJECTED: {
    stage: 'check-update',
    summary: 'The phone refused the firmware image.',
    fix: 'Check that the image is meant for this phone model and hardware revision; check the update\'s approval on the Device Update service.',
    userAction: 'Tell your IT support; the phone refused the update it was offered and keeps its current software.',
    cmdlet: 'Get-CsDeviceUpdateRule',
  },
  FIRMWARE_VERIFY_FAILED: {
    stage: 'check-update',
    summary: 'The image the phone received does not match the update\'s SHA-256; the phone kept its current firmware.',
    fix: 'Start the update again; Tether sends the image afresh. If it fails again, download the update again.',
    userAction: RETRY_FIRMWARE,
  },
  FIRMWARE_BOOT_FAILED: {
    stage: 'check-update',
    summary: 'The phone did not start the new firmware and went back to its previous one.',
    fix: 'The phone is safe on its old firmware. Check the update\'s model and revision, then try again.',
    userAction: 'The phone is fine on its old software. Try again; if it fails again, tell your IT support.',
    cmdlet: 'Get-CsDeviceUpdateRule',
  },
} as const satisfies ErrorTable;
