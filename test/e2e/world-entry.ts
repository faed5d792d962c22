/**
 * What the end-to-end tests start in their own process: the real service with virtual phones and
 * the lab (demo wiring), and the browser host. global-setup bundles this file with esbuild (as the
 * product's CLI is bundled), because Playwright's loader runs Node's own ESM, which refuses the
 * sources' JSON imports without an import attribute.
 */
export { startDemoService } from '../../main/cli/demo-service';
export { startWebHost } from '../../main/web-host/server';
