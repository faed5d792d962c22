import { EventEmitter } from 'node:events';
import type { IpcMain, IpcMainEvent, WebContents } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { IPC_CALL_CHANNEL, IPC_CORE_CHANNEL, MAX_CALL_BYTES } from '../../../common/service/wire';
import { serveContractOverIpc, trustedSenders } from '../../../main/app/ipc';
import { recordingService } from '../../support/recording-service';

// The app's modules import electron's types only; nothing may load the real runtime in a test.
vi.mock('electron', () => ({}));

interface FakeContents extends EventEmitter {
  id: number;
  mainFrame: { url: string };
  sent: unknown[];
  send(channel: string, message: unknown): void;
  isDestroyed(): boolean;
}

function contents(id: number, url = 'app://tether/index.html'): FakeContents {
  const c = new EventEmitter() as FakeContents;
  c.id = id;
  c.mainFrame = { url };
  c.sent = [];
  c.send = (channel, message) => c.sent.push([channel, message]);
  c.isDestroyed = () => false;
  return c;
}

const event = (sender: FakeContents, frame: { url: string } | null = sender.mainFrame) => ({ sender, senderFrame: frame }) as unknown as IpcMainEvent;
const flush = () => new Promise((r) => setImmediate(r));

describe('IPC: trusted senders and checked payloads', () => {
  const setUp = () => {
    const ipcMain = new EventEmitter() as unknown as IpcMain;
    const service = recordingService({ listPhones: () => [] });
    const senders = trustedSenders();
    const refused: string[] = [];
    const stop = serveContractOverIpc(ipcMain, service, senders, (why) => refused.push(why));
    return { ipcMain: ipcMain as unknown as EventEmitter, service, senders, refused, stop };
  };
  const call = { type: 'call', id: 1, name: 'listPhones', args: {} };

  it('answers the main frame of a window it trusts, showing our page', async () => {
    const { ipcMain, senders, service } = setUp();
    const win = contents(1);
    senders.add(win as unknown as WebContents);
    ipcMain.emit(IPC_CALL_CHANNEL, event(win), call);
    await flush();
    expect(service.calls).toHaveLength(1);
    expect(win.sent).toEqual([[IPC_CORE_CHANNEL, { type: 'result', id: 1, ok: true, value: [] }]]);
  });

  it('ignores an unknown window, a subframe, and our window once it shows another page', async () => {
    const { ipcMain, senders, service, refused } = setUp();
    const stranger = contents(2);
    const win = contents(3);
    senders.add(win as unknown as WebContents);
    ipcMain.emit(IPC_CALL_CHANNEL, event(stranger), call);
    ipcMain.emit(IPC_CALL_CHANNEL, event(win, { url: 'app://tether/index.html' }), call);
    win.mainFrame.url = 'https://evil.example/';
    ipcMain.emit(IPC_CALL_CHANNEL, event(win), call);
    ipcMain.emit(IPC_CALL_CHANNEL, event(win, null), call);
    await flush();
    expect(service.calls).toEqual([]);
    expect(win.sent).toEqual([]);
    expect(refused).toHaveLength(4);
  });

  it('forgets a window when it is destroyed', async () => {
    const { ipcMain, senders, service } = setUp();
    const win = contents(4);
    senders.add(win as unknown as WebContents);
    win.emit('destroyed');
    ipcMain.emit(IPC_CALL_CHANNEL, event(win), call);
    await flush();
    expect(service.calls).toEqual([]);
  });

  it('validates the payload of a trusted sender too', async () => {
    const { ipcMain, senders, service } = setUp();
    const win = contents(5);
    senders.add(win as unknown as WebContents);
    ipcMain.emit(IPC_CALL_CHANNEL, event(win), { type: 'call', id: 2, name: 'startSignIn', args: { serial: '../x', kind: 'pin', user: '1' } });
    await flush();
    expect(service.calls).toEqual([]);
    expect(JSON.stringify(win.sent)).toContain('ContractError');
  });

  it('refuses a call larger than the WebSocket’s frame cap, with a typed answer', async () => {
    const { ipcMain, senders, service } = setUp();
    const win = contents(7);
    senders.add(win as unknown as WebContents);
    ipcMain.emit(IPC_CALL_CHANNEL, event(win), { type: 'call', id: 3, name: 'listPhones', args: { pad: 'x'.repeat(MAX_CALL_BYTES) } });
    await flush();
    expect(service.calls).toEqual([]);
    expect(win.sent).toEqual([[IPC_CORE_CHANNEL, { type: 'result', id: 3, ok: false, error: { type: 'ContractError', message: 'call larger than 16 KiB refused' } }]]);
  });

  it('stopping removes the listener and the service subscriptions', async () => {
    const { ipcMain, senders, service, stop } = setUp();
    const win = contents(6);
    senders.add(win as unknown as WebContents);
    ipcMain.emit(IPC_CALL_CHANNEL, event(win), call);
    await flush();
    expect(service.listenerCount('phones')).toBe(1);
    stop();
    expect(ipcMain.listenerCount(IPC_CALL_CHANNEL)).toBe(0);
    expect(service.listenerCount('phones')).toBe(0);
  });
});
