import { contextBridge, ipcRenderer } from 'electron';
import { createServiceClient } from '../common/service/client';
import { IPC_CALL_CHANNEL, IPC_CORE_CHANNEL } from '../common/service/wire';

/**
 * The window's only door to the core: the service contract's calls and events, generated from the
 * contract (common/service/client.ts), over one IPC channel each way. Nothing of Electron or Node
 * reaches the page: no ipcRenderer, no generic send, no way to name another channel.
 */

const client = createServiceClient({
  send: (message) => ipcRenderer.send(IPC_CALL_CHANNEL, message),
  onMessage: (listener) => {
    const handler = (_event: unknown, data: unknown) => listener(data);
    ipcRenderer.on(IPC_CORE_CHANNEL, handler);
    return () => void ipcRenderer.removeListener(IPC_CORE_CHANNEL, handler);
  },
});

const { failPending: _f, close: _c, ...service } = client;
contextBridge.exposeInMainWorld('tether', service);
