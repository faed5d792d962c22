import { EventEmitter } from 'node:events';
import type { Session, WebContents } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { menuTemplate } from '../../../main/app/menu';
import { isAppUrl } from '../../../main/app/protocol';
import { denyPermissions, lockDownContents, WEB_PREFERENCES } from '../../../main/app/security';
import { followPushOnTaskbar } from '../../../main/app/taskbar';
import { recordingService } from '../../support/recording-service';

vi.mock('electron', () => ({}));

describe('the Electron shell', () => {
  it('every window is sandboxed and isolated, without Node', () => {
    expect(WEB_PREFERENCES).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });

  it('denies every permission request and check but a clipboard write from our own page', () => {
    const handlers: Record<string, (...a: never[]) => unknown> = {};
    const session = {
      setPermissionRequestHandler: (h: never) => (handlers.request = h),
      setPermissionCheckHandler: (h: never) => (handlers.check = h),
      setDevicePermissionHandler: (h: never) => (handlers.device = h),
    } as unknown as Session;
    denyPermissions(session, isAppUrl);
    const answers: boolean[] = [];
    const request = handlers.request as unknown as (c: null, p: string, cb: (b: boolean) => void, d: { requestingUrl: string }) => void;
    request(null, 'media', (b) => answers.push(b), { requestingUrl: 'app://tether/index.html' });
    request(null, 'clipboard-read', (b) => answers.push(b), { requestingUrl: 'app://tether/index.html' });
    request(null, 'clipboard-sanitized-write', (b) => answers.push(b), { requestingUrl: 'https://evil.example/' });
    request(null, 'clipboard-sanitized-write', (b) => answers.push(b), { requestingUrl: 'app://tether/index.html' });
    expect(answers).toEqual([false, false, false, true]);
    const check = handlers.check as unknown as (c: null, p: string, origin: string) => boolean;
    expect(check(null, 'notifications', 'app://tether')).toBe(false);
    expect(check(null, 'clipboard-sanitized-write', 'app://tether')).toBe(true);
    expect(check(null, 'clipboard-sanitized-write', 'https://evil.example')).toBe(false);
    expect((handlers.device as unknown as () => boolean)()).toBe(false);
  });

  it('blocks navigation away from the app, new windows and webviews; documentation links go to the browser', () => {
    const c = new EventEmitter() as EventEmitter & { setWindowOpenHandler(h: (d: { url: string }) => unknown): void; open?: (d: { url: string }) => unknown };
    c.setWindowOpenHandler = (h) => (c.open = h);
    const opened: string[] = [];
    lockDownContents(c as unknown as WebContents, (u) => opened.push(u), isAppUrl);
    const tryNavigate = (name: string, url: string) => {
      let prevented = false;
      c.emit(name, { preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    expect(tryNavigate('will-navigate', 'https://evil.example/')).toBe(true);
    expect(tryNavigate('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(tryNavigate('will-redirect', 'app://other/')).toBe(true);
    expect(tryNavigate('will-navigate', 'app://tether/index.html')).toBe(false);
    expect(tryNavigate('will-attach-webview', 'app://tether/')).toBe(true);
    expect(c.open!({ url: 'https://learn.microsoft.com/' })).toEqual({ action: 'deny' });
    expect(c.open!({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    // Only Microsoft's documentation hosts, exactly, over https on the default port, without credentials.
    for (const url of [
      'https://evil.example/',
      'https://learn.microsoft.com.evil.example/',
      'https://evil.example/?https://learn.microsoft.com/',
      'https://user@learn.microsoft.com/',
      'https://learn.microsoft.com:8443/',
      'http://technet.microsoft.com/',
      'file:///etc/passwd',
      'not a url',
    ]) {
      expect(c.open!({ url })).toEqual({ action: 'deny' });
    }
    expect(c.open!({ url: 'https://TechNet.Microsoft.com/en-us/library/gg412828(v=ocs.14)' })).toEqual({ action: 'deny' });
    expect(c.open!({ url: 'https://docs.microsoft.com/x' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://learn.microsoft.com/', 'https://TechNet.Microsoft.com/en-us/library/gg412828(v=ocs.14)', 'https://docs.microsoft.com/x']);
  });

  it('builds the menu each OS expects, without developer tools when packaged', () => {
    const mac = menuTemplate('darwin', 'Tether', true);
    const win = menuTemplate('win32', 'Tether', true);
    expect(mac[0]!.label).toBe('Tether');
    expect(win[0]!.label).toBe('&File');
    const roles = (t: ReturnType<typeof menuTemplate>) => JSON.stringify(t);
    expect(roles(win)).not.toContain('toggleDevTools');
    expect(roles(menuTemplate('linux', 'Tether', false))).toContain('toggleDevTools');
  });

  it('the taskbar follows the firmware push and clears when it ends', () => {
    const service = recordingService();
    const values: number[] = [];
    followPushOnTaskbar(service, { setProgressBar: (v: number) => void values.push(v), isDestroyed: () => false });
    const p = { jobId: 'job-00000001', serial: 'S1', message: 'Sending', fraction: 0.25 };
    service.emit('progress', { ...p, stage: 'auth' });
    service.emit('progress', { ...p, stage: 'check-update' });
    service.emit('progress', { ...p, stage: 'check-update', fraction: 0.5 });
    service.emit('stage', { jobId: 'job-00000001', serial: 'S1', stage: 'check-update', status: 'done', summary: null, failure: null, at: 1 });
    expect(values).toEqual([0.25, 0.5, -1]);
  });
});
