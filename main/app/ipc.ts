import type { IpcMain, IpcMainEvent, WebContents } from 'electron';
import type { TetherService } from '../../common/service/contract';
import { IPC_CALL_CHANNEL, IPC_CORE_CHANNEL, type CoreMessage } from '../../common/service/wire';
import { openConnection, type Connection } from '../bridge/connection';

/**
 * The contract over Electron IPC: one channel in (`tether:call`), one out (`tether:core`), the
 * same envelopes as the browser host's WebSocket (common/service/wire.ts). Every message is
 * checked twice before it reaches the service: its sender must be a trusted window's main frame
 * showing our own page (as GitHub Desktop's trusted-ipc-sender), and its payload must fit
 * MAX_CALL_BYTES and pass validateCall (both inside openConnection). This module and preload/index.ts are the only places
 * that touch the raw channels (the lint forbids them elsewhere).
 */

export const APP_ORIGIN = 'app://tether';

/** True for a URL of our own page. (WHATWG URL gives a custom scheme the origin "null", so compare scheme and host.) */
export function isAppUrl(url: string, origin = APP_ORIGIN): boolean {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === origin;
  } catch {
    return false;
  }
}

export interface TrustedSenders {
  add(contents: WebContents): void;
  isTrusted(event: Pick<IpcMainEvent, 'sender' | 'senderFrame'>): boolean;
}

export function trustedSenders(origin = APP_ORIGIN): TrustedSenders {
  const ids = new Set<number>();
  return {
    add(contents) {
      ids.add(contents.id);
      contents.once('destroyed', () => ids.delete(contents.id));
    },
    isTrusted({ sender, senderFrame }) {
      if (!ids.has(sender.id) || !senderFrame) return false;
      // Only the top frame, and only while it shows our page (never a frame or page it navigated to).
      if (senderFrame !== sender.mainFrame) return false;
      return isAppUrl(senderFrame.url, origin);
    },
  };
}

/** Carries the contract for every trusted window; returns a function that stops it. */
export function serveContractOverIpc(ipcMain: IpcMain, service: TetherService, senders: TrustedSenders, onRefused: (why: string) => void = () => undefined): () => void {
  const connections = new Map<number, Connection>();
  const connectionFor = (contents: WebContents): Connection => {
    let c = connections.get(contents.id);
    if (!c) {
      const send = (message: CoreMessage) => {
        if (!contents.isDestroyed()) contents.send(IPC_CORE_CHANNEL, message);
      };
      c = openConnection({ service, send });
      connections.set(contents.id, c);
      contents.once('destroyed', () => {
        connections.get(contents.id)?.close();
        connections.delete(contents.id);
      });
    }
    return c;
  };
  const onCall = (event: IpcMainEvent, message: unknown) => {
    if (!senders.isTrusted(event)) {
      onRefused(`IPC from an untrusted sender (${event.senderFrame?.url.slice(0, 80) ?? 'no frame'})`);
      return;
    }
    void connectionFor(event.sender).receive(message);
  };
  ipcMain.on(IPC_CALL_CHANNEL, onCall);
  return () => {
    ipcMain.removeListener(IPC_CALL_CHANNEL, onCall);
    for (const c of connections.values()) c.close();
    connections.clear();
  };
}
