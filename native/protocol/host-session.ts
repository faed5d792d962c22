import type { BulkWriter, HostSession, HostSessionOptions, PairingInfo } from './api';
import type { FrameLink } from './link';
import { CORE, SessionCore } from './session';

/**
 * Runs the host side of the handshake over `link` (HELLO → WELCOME → KEY → READY) and resolves
 * with an open, unpaired session: `identity` is the phone's, `pairing().sas` the code to compare.
 * Rejects with a TetherError (handshake violation or timeout, peer reset, link gone); the link is
 * closed then.
 */
export async function openHostSession(link: FrameLink, options: HostSessionOptions = {}): Promise<HostSession> {
  const core = new SessionCore('host', link, options);
  await core.open();
  const identity = core.identity!;
  const negotiated = core.negotiated!;
  const session: HostSession & { [CORE]: SessionCore } = {
    [CORE]: core,
    identity,
    negotiated,
    staleFramesSkipped: core.staleFramesSkipped,
    get state() {
      return core.state;
    },
    get paired() {
      return core.paired;
    },
    closed: core.closed,
    close: () => core.close(),
    pairing: (): PairingInfo => ({ sas: core.sas, confirmed: core.paired, method: core.pairingMethod, remembered: core.remembered }),
    confirmPairing: () => core.confirmPairing(),
    call: (op, request, callOptions) => core.call(op, request, callOptions?.timeoutMs),
    bulkWriter: (transferId: number): BulkWriter => ({
      transferId,
      write: (offset, data) => core.writeBulk(transferId, offset, data),
      flush: () => core.flush(),
    }),
    on: (event, listener) => core.on(event, listener),
  };
  return session;
}
