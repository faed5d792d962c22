import { app, BrowserWindow, ipcMain, Menu, protocol, session, shell } from 'electron';
import type { TetherService } from '../../common/service/contract';
import { loadStaticFiles } from '../bridge/static-files';
import { serveContractOverIpc, trustedSenders } from './ipc';
import { menuTemplate } from './menu';
import { APP_SCHEME, isAppUrl, registerAppScheme, serveApp } from './protocol';
import { denyPermissions, lockDownApp, WEB_PREFERENCES } from './security';
import { followPushOnTaskbar } from './taskbar';

export interface ElectronAppOptions {
  /** Creates the service once Electron is ready (the caller chooses real USB or the demo). */
  readonly createService: () => Promise<{ service: TetherService; stop(): Promise<void> }>;
  readonly rendererDir: string;
  readonly preloadPath: string;
}

/**
 * Tether's Electron main process: one instance, one sandboxed window showing app://tether/, the
 * contract over IPC for that window only.
 */
export function startElectronApp(options: ElectronAppOptions): void {
  // A second Tether brings the first one's window forward instead of opening another.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  registerAppScheme(protocol);
  lockDownApp(app, (url) => void shell.openExternal(url), isAppUrl);
  let window: BrowserWindow | null = null;
  let stopService: (() => Promise<void>) | null = null;

  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  app.whenReady().then(async () => {
    denyPermissions(session.defaultSession, isAppUrl);
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(process.platform, app.getName(), app.isPackaged)));
    serveApp(protocol, await loadStaticFiles(options.rendererDir));
    const { service, stop } = await options.createService();
    stopService = stop;
    const senders = trustedSenders();
    serveContractOverIpc(ipcMain, service, senders, (why) => console.warn(`tether: refused ${why}`));

    window = new BrowserWindow({
      width: 1100,
      height: 780,
      minWidth: 480,
      minHeight: 480,
      title: 'Tether',
      show: false,
      webPreferences: { ...WEB_PREFERENCES, preload: options.preloadPath },
    });
    senders.add(window.webContents);
    followPushOnTaskbar(service, window);
    window.once('ready-to-show', () => window?.show());
    window.on('closed', () => (window = null));
    await window.loadURL(`${APP_SCHEME}://tether/index.html`);
  }, (err: unknown) => {
    console.error('tether:', err);
    app.exit(1);
  });

  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (event) => {
    if (!stopService) return;
    const stop = stopService;
    stopService = null;
    event.preventDefault();
    void stop().finally(() => app.quit());
  });
}
