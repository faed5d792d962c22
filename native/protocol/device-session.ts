import type { DeviceSession, DeviceSessionOptions } from './api';
import type { FrameLink } from './link';
import { CORE, SessionCore } from './session';

/**
 * Answers a host's handshake on `link` (waits for HELLO) and resolves with an open, unpaired
 * session once READY is sent; `showSas` has been called with the pairing code by then. Requests are
 * dispatched to `handlers`, firmware chunks to `onBulk`. Rejects with a TetherError on a handshake
 * violation or timeout; the link is closed then. The phone opens a new session for each new link.
 */
export async function openDeviceSession(link: FrameLink, options: DeviceSessionOptions): Promise<DeviceSession> {
  const { identity, handlers, onBulk, showSas, onPaired, pairingKeys, ...sessionOptions } = options;
  const core = new SessionCore('device', link, sessionOptions, { identity, handlers, onBulk, showSas, onPaired, pairingKeys });
  await core.open();
  const session: DeviceSession & { [CORE]: SessionCore } = {
    [CORE]: core,
    identity,
    sas: core.sas,
    pairingMethod: core.pairingMethod,
    negotiated: core.negotiated!,
    get state() {
      return core.state;
    },
    get paired() {
      return core.paired;
    },
    closed: core.closed,
    close: () => core.close(),
    emit: (event, payload) => core.emit(event, payload),
  };
  return session;
}
