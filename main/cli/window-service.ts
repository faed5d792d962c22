import type { TetherService } from '../../common/service/contract';
import { startDemoService, type DemoServiceOptions } from './demo-service';
import { openProvisionWorld } from './provision-world';

/**
 * The service a window drives: the phones on this computer's USB bus, or — when none is attached —
 * the demo (virtual phones and the lab pool in this process), which is why this lives in main/cli
 * (the only place that may import lab/). `npm start` (browser host) and Electron's main use it.
 */

export type DemoChoice = 'auto' | 'always' | 'never';

export interface WindowService {
  readonly service: TetherService;
  readonly mode: 'usb' | 'demo';
  /** Lines for the person who started it (what the demo is, its sign-in data). */
  readonly notes: readonly string[];
  stop(): Promise<void>;
}

export const DEMO_MODELS = ['CX600', 'CX700'] as const;

export async function openWindowService(options: { demo: DemoChoice; demoOptions?: DemoServiceOptions } = { demo: 'auto' }): Promise<WindowService> {
  if (options.demo !== 'always') {
    // The USB bus, the journal in the per-user data folder (jobs survive a restart) and the pool's DNS.
    const world = await openProvisionWorld({});
    const { fleet } = world;
    const present = fleet.manager.phones().length + fleet.failures().length;
    if (present > 0 || options.demo === 'never') {
      const resumed = world.service.resumeUnfinished();
      const notes = [
        ...(present > 0 ? [] : [fleet.usbProblem ? `No phone found: ${fleet.usbProblem.message}` : 'No phone attached yet: plug one in and it appears.']),
        ...(resumed.length > 0 ? [`Resuming ${resumed.length} unfinished sign-in(s) from the journal.`] : []),
      ];
      return { service: world.service, mode: 'usb', notes, stop: () => world.close() };
    }
    await world.close();
  }
  const models = options.demoOptions?.models ?? DEMO_MODELS;
  const demo = await startDemoService({
    models,
    updateModels: models,
    imageBytes: 8 << 20,
    // The person compares the code in the window with the one on the virtual phone's display.
    autoConfirmPairing: false,
    ...options.demoOptions,
  });
  const user = demo.users[0];
  const notes = [
    `No phone attached: showing the demo — virtual ${models.join(' and ')} phones and a lab pool, in this process.`,
    ...(user ? [`  Demo sign-in: extension ${user.extension} with PIN ${user.pin}; or Windows: ${user.ntlm}, password ${user.password}, ${user.sipUri}`] : []),
  ];
  return { service: demo.service, mode: 'demo', notes, stop: () => demo.stop() };
}
