import type { MenuItemConstructorOptions } from 'electron';

/**
 * The menu each OS expects: on macOS the app menu (About, Hide, Quit) comes first and Edit is
 * needed for copy and paste to work at all; on Windows and Linux a File menu with Exit. Nothing
 * that opens a developer tool or reloads the page in a packaged build.
 */
export function menuTemplate(platform: NodeJS.Platform, appName: string, packaged: boolean): MenuItemConstructorOptions[] {
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(packaged ? [] : ([{ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' }] as MenuItemConstructorOptions[])),
    ],
  };
  const edit: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  };
  if (platform === 'darwin') {
    return [
      {
        label: appName,
        submenu: [{ role: 'about' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }],
      },
      edit,
      view,
      { role: 'windowMenu' },
    ];
  }
  return [{ label: '&File', submenu: [{ role: 'quit', label: 'E&xit' }] }, edit, view, { label: '&Help', submenu: [{ role: 'about', label: `&About ${appName}` }] }];
}
