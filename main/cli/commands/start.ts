import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TetherError } from '../../../common/errors';
import { claimInstance, findRunningInstance } from '../../web-host/instance';
import { startWebHost } from '../../web-host/server';
import { flag, parseArgs } from '../args';
import { EXIT, usageError, type CliIO, type Command } from '../io';
import { electronRuntime, openBrowser } from '../window-runtime';
import { openWindowService, type DemoChoice } from '../window-service';

const USAGE = `Usage: tether start [--demo | --no-demo] [--browser] [--port N] [--no-open]

Opens Tether's window (what \`npm start\` runs). Builds what is stale first. With Electron's runtime
installed it opens the desktop window; without it (or with --browser) it serves the same window on
this computer only, at a loopback address with a one-time token it prints, and opens a browser if
there is one. A second start reuses the running one.

With no phone attached it shows the demo: virtual phones signing in to a lab pool, in this process.

  --demo      show the demo even when a phone is attached
  --no-demo   never show the demo: wait for a phone
  --browser   serve the window to a browser even where Electron is installed
  --port N    the loopback port (default: a free one)
  --no-open   print the address without opening a browser
`;

const FLAGS = { demo: flag.boolean(), 'no-demo': flag.boolean(), browser: flag.boolean(), port: flag.port(0), 'no-open': flag.boolean() };

// Same depth from main/cli/commands/ (sources) and dist/main/cli/ (the bundle): the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function ensureBuilt(targets: readonly string[], io: CliIO): Promise<void> {
  const { build } = (await import(new URL('../../../scripts/build.mjs', import.meta.url).href)) as {
    build(o: { targets: readonly string[]; ifStale: boolean; quiet: boolean }): Promise<string[]>;
  };
  const built = await build({ targets, ifStale: true, quiet: true });
  if (built.length > 0) io.stderr.write(`Built ${built.join(', ')}.\n`);
}

function runElectron(binary: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [`${ROOT}dist/main/app/main.cjs`, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? EXIT.failure));
  });
}

export const startCommand: Command = {
  name: 'start',
  summary: "Open Tether's window (Electron, or a loopback page in the browser); the demo when no phone is attached",
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const f = parseArgs(args, FLAGS, { usage: USAGE }).flags;
    if (f.demo && f['no-demo']) throw usageError(`--demo and --no-demo contradict each other.\n\n${USAGE}`);
    const demo: DemoChoice = f.demo ? 'always' : f['no-demo'] ? 'never' : 'auto';

    const electron = electronRuntime(ROOT, io.env);
    if ('path' in electron && !f.browser) {
      await ensureBuilt(['renderer', 'app'], io);
      return runElectron(electron.path, f.demo ? ['--demo'] : f['no-demo'] ? ['--no-demo'] : []);
    }
    if ('missing' in electron) io.stdout.write(`No Electron runtime here (${electron.missing}): serving the window to a browser instead.\n`);

    const running = await findRunningInstance();
    if (running) {
      io.stdout.write(`Tether is already running: ${running.url}\n`);
      if (!f['no-open']) openBrowser(running.url, io.env);
      return EXIT.ok;
    }

    await ensureBuilt(['renderer'], io);
    const opened = await openWindowService({ demo });
    let host;
    try {
      host = await startWebHost({ service: opened.service, rendererDir: `${ROOT}dist/renderer`, ...(f.port ? { port: f.port } : {}) });
    } catch (err) {
      await opened.stop();
      throw err instanceof TetherError ? err : new TetherError('INTERNAL', `The window's host could not start: ${(err as Error).message}`, { cause: err });
    }
    const release = claimInstance({ pid: process.pid, url: host.url });
    try {
      io.stdout.write(`Tether is at ${host.url}  (this computer only; Ctrl-C stops it)\n`);
      for (const line of opened.notes) io.stdout.write(line + '\n');
      const browser = f['no-open'] ? null : openBrowser(host.url, io.env);
      if (!f['no-open'] && !browser) io.stdout.write('No browser to open here: open the address above in one.\n');
      await (io.untilStopped?.() ?? new Promise<void>(() => undefined));
    } finally {
      release();
      await host.close();
      await opened.stop();
    }
    return EXIT.ok;
  },
};
