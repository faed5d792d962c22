import type { App, Session, WebContents } from 'electron';

/**
 * Electron's security checklist, the parts that are settings (docs/security.md lists every item):
 * the window's web preferences, permission requests denied, navigation and new windows blocked,
 * no <webview>.
 */

export const WEB_PREFERENCES = {
  sandbox: true,
  contextIsolation: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
} as const;

/** The one permission the window uses: writing the admin's cmdlet to the clipboard (the Copy button). */
export const ALLOWED_PERMISSION = 'clipboard-sanitized-write';

/**
 * Every permission (camera, notifications, clipboard reads, HID, USB, serial …) is refused, except
 * a clipboard write asked by our own page.
 */
export function denyPermissions(session: Session, isAppUrl: (url: string) => boolean): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => callback(permission === ALLOWED_PERMISSION && isAppUrl(details.requestingUrl)));
  session.setPermissionCheckHandler((_contents, permission, origin) => permission === ALLOWED_PERMISSION && isAppUrl(origin));
  session.setDevicePermissionHandler(() => false);
}

/**
 * The only hosts a link may hand to the OS browser: Microsoft's documentation, where docs/ and the
 * catalogue's fixes point (Lync Server 2010 pages on learn, and their older docs/technet names).
 */
export const DOCUMENTATION_HOSTS: readonly string[] = ['learn.microsoft.com', 'docs.microsoft.com', 'technet.microsoft.com'];

/** https, default port, no user name or password, exactly one of DOCUMENTATION_HOSTS. */
export function isDocumentationUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === 'https:' && u.port === '' && u.username === '' && u.password === '' && DOCUMENTATION_HOSTS.includes(u.hostname);
}

/** No page may navigate away from the app, open a window, or attach a webview. */
export function lockDownContents(contents: WebContents, openExternal: (url: string) => void, isAppUrl: (url: string) => boolean): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // A link to Microsoft's documentation opens in the user's browser, never in a Tether window.
    if (isDocumentationUrl(url)) openExternal(url);
    return { action: 'deny' };
  });
}

export function lockDownApp(app: App, openExternal: (url: string) => void, isAppUrl: (url: string) => boolean): void {
  app.on('web-contents-created', (_event, contents) => lockDownContents(contents, openExternal, isAppUrl));
}
