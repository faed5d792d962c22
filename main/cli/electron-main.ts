import { join } from 'node:path';
import { startElectronApp } from '../app/main';
import { openWindowService } from './window-service';

/**
 * Electron's entry (bundled to dist/main/app/main.cjs): the shell from main/app with the service
 * chosen here, since only main/cli may start the demo's lab.
 */
// Runs only bundled, as CommonJS (dist/main/app/main.cjs), where __dirname is dist/main/app.
const dist = join(__dirname, '..', '..');
startElectronApp({
  rendererDir: join(dist, 'renderer'),
  preloadPath: join(dist, 'preload', 'index.cjs'),
  createService: async () => {
    const opened = await openWindowService({ demo: process.argv.includes('--demo') ? 'always' : process.argv.includes('--no-demo') ? 'never' : 'auto' });
    for (const line of opened.notes) console.log(line);
    return { service: opened.service, stop: opened.stop };
  },
});
