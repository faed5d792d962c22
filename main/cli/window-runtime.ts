import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What this machine has to show the window with: Electron's runtime (node_modules/electron with
 * its downloaded binary: CI and locked-down PCs install with ELECTRON_SKIP_BINARY_DOWNLOAD and
 * have none), and a browser to open the loopback host's URL in.
 */

/** The Electron binary, or a sentence saying why there is none. */
export function electronRuntime(root: string, env: Readonly<Record<string, string | undefined>> = process.env): { path: string } | { missing: string } {
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkg, 'package.json'))) return { missing: 'the electron package is not installed' };
  // Read the path the way electron/index.js does, without requiring it (which downloads when missing).
  const dist = env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist');
  let relative: string;
  try {
    relative = readFileSync(join(pkg, 'path.txt'), 'utf8').trim();
  } catch {
    return { missing: 'its binary was not downloaded: ELECTRON_SKIP_BINARY_DOWNLOAD was set, or the install had no network' };
  }
  const path = join(dist, relative);
  return existsSync(path) ? { path } : { missing: `its binary is missing (${path})` };
}

const BROWSERS: Partial<Record<NodeJS.Platform, readonly string[]>> = {
  linux: ['xdg-open', 'chromium', 'google-chrome', 'firefox'],
  darwin: ['open'],
  win32: ['explorer.exe'],
};

function onPath(command: string, env: Readonly<Record<string, string | undefined>>): string | null {
  for (const dir of (env.PATH ?? '').split(process.platform === 'win32' ? ';' : ':')) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return null;
}

/** Opens the URL in a browser when there is one and a display to show it on; returns what it ran, or null. */
export function openBrowser(url: string, env: Readonly<Record<string, string | undefined>> = process.env): string | null {
  if (env.TETHER_NO_BROWSER) return null;
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  for (const command of BROWSERS[process.platform] ?? []) {
    const path = onPath(command, env);
    if (!path) continue;
    const child = spawn(path, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return command;
  }
  return null;
}
