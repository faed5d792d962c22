import { toTetherError } from '../../common/errors';
import { openHostSession, type DeviceIdentity, type HostSession, type HostSessionOptions } from '../../native/protocol';
import type { InterfaceTriple } from '../../native/usb/catalogue';
import type { TetherInterface } from '../../native/usb/endpoints';
import type { UsbFrameLink } from '../../native/usb/frame-link';
import { openTetherLink } from '../../native/usb/open';
import type { SourceKind } from '../../native/usb/source';

/** USB speed, told by the bulk endpoints' wMaxPacketSize (USB 2.0 §5.8.3: 64 at full, 512 at high speed). */
export type UsbSpeed = 'full' | 'high' | 'super';

export function speedOf(endpoints: TetherInterface): UsbSpeed {
  const size = Math.max(endpoints.in.packetSize, endpoints.out.packetSize);
  return size >= 1024 ? 'super' : size >= 512 ? 'high' : 'full';
}

/** A phone with an open, handshaken tether session. */
export interface AttachedPhone {
  readonly device: USBDevice;
  readonly source: SourceKind;
  readonly identity: DeviceIdentity;
  readonly speed: UsbSpeed;
  readonly session: HostSession;
  readonly link: UsbFrameLink;
  /** Ends the session and releases the interface. Idempotent. */
  close(): Promise<void>;
}

export interface AttachOptions {
  readonly source: SourceKind;
  readonly triple?: InterfaceTriple;
  readonly session?: HostSessionOptions;
  /** Reset the device first (re-attach after a failed session: stale frames are dropped). */
  readonly reset?: boolean;
}

/**
 * Opens the device, claims the tether interface and runs the handshake; the phone's identity
 * (model, serial, firmware) comes from it. Pairing is separate (HostSession.confirmPairing), since
 * it needs the user to compare the code.
 */
export async function attachPhone(device: USBDevice, options: AttachOptions): Promise<AttachedPhone> {
  const link = await openTetherLink(device, options.triple, { reset: options.reset });
  let session: HostSession;
  try {
    session = await openHostSession(link, options.session);
  } catch (err) {
    await link.close();
    throw toTetherError(err);
  }
  let closing: Promise<void> | null = null;
  return {
    device,
    source: options.source,
    identity: session.identity,
    speed: speedOf(link.endpoints),
    session,
    link,
    close() {
      closing ??= (async () => {
        await session.close().catch(() => {});
        await link.close();
      })();
      return closing;
    },
  };
}
