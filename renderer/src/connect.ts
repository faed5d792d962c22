import type { TetherService } from '../../common/service/contract';
import { createServiceClient, type ServiceClient } from '../../common/service/client';

declare global {
  interface Window {
    /** Electron's preload puts the contract here (generated from it); absent in a browser. */
    readonly tether?: TetherService;
  }
}

export interface Connected {
  readonly service: TetherService;
  /** Reports the carrier's state: true once open, false when it closed. */
  onStatus(listener: (connected: boolean) => void): void;
}

/**
 * The service, whichever host serves the window: Electron's preload API, or the loopback browser
 * host's WebSocket (its token came in the printed URL and now rides in an HttpOnly cookie, so it
 * is taken off the address bar and out of the history at once).
 */
export function connect(): Connected {
  if (window.tether) {
    const service = window.tether;
    return { service, onStatus: (l) => l(true) };
  }
  const url = new URL(window.location.href);
  if (url.searchParams.has('token')) {
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  const socket = new WebSocket(`${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}/ws`);
  const status = new Set<(c: boolean) => void>();
  let open = false;
  const queue: string[] = [];
  const client: ServiceClient = createServiceClient({
    send: (message) => {
      const text = JSON.stringify(message);
      if (open) socket.send(text);
      else queue.push(text);
    },
    onMessage: (listener) => {
      const handler = (e: MessageEvent) => {
        if (typeof e.data !== 'string') return;
        try {
          listener(JSON.parse(e.data));
        } catch {
          // A malformed message from the core is ignored; the next one may be fine.
        }
      };
      socket.addEventListener('message', handler);
      return () => socket.removeEventListener('message', handler);
    },
  });
  socket.addEventListener('open', () => {
    open = true;
    for (const text of queue.splice(0)) socket.send(text);
    for (const l of status) l(true);
  });
  socket.addEventListener('close', () => {
    open = false;
    client.failPending('The connection to Tether closed.');
    for (const l of status) l(false);
  });
  return {
    service: client,
    onStatus: (l) => {
      status.add(l);
      if (open) l(true);
    },
  };
}
