import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLab, type LabHandle } from '../../../lab';
import type { LabService } from '../../../lab/context';
import { createWebServices, type WebServicesOptions } from '../../../lab/webservices';
import { PoolHttpClient } from '../../../main/pool/net/http';
import { createPoolResolver } from '../../../main/pool/net/resolver';
import { tempDir } from '../support';

/** Extra HTTPS routes a test installs to play a misbehaving server. */
export type TestRoutes = Record<string, (req: IncomingMessage, res: ServerResponse) => void>;

export interface WebServicesLab {
  readonly lab: LabHandle;
  readonly http: PoolHttpClient;
  /** CertProvisioningService.svc on the lab's HTTPS listener. */
  readonly certProvBase: string;
  readonly httpsBase: string;
  stop(): Promise<void>;
}

/** The lab with only the Web Services running, and a pool HTTP client that trusts its root. */
export async function startWebServicesLab(
  options: WebServicesOptions & { lockoutThreshold?: number; testRoutes?: TestRoutes } = {},
): Promise<WebServicesLab> {
  const tmp = tempDir('tether-websvc-');
  const extra: LabService = {
    name: 'test-routes',
    async start(ctx) {
      for (const [path, handler] of Object.entries(options.testRoutes ?? {})) ctx.routes.add('POST', path, handler, { http: false, https: true });
      return { async stop() {} };
    },
  };
  const lab = await startLab({
    stateDir: tmp.dir,
    services: [createWebServices(options), extra],
    ...(options.lockoutThreshold === undefined ? {} : { lockoutThreshold: options.lockoutThreshold }),
  });
  const http = new PoolHttpClient({
    resolver: createPoolResolver({ server: lab.dnsServer }),
    extraCaPems: [lab.ca.rootCertPem],
    retry: { attempts: 1 },
    timeouts: { connectMs: 5000, idleMs: 5000, totalMs: 10_000 },
  });
  return {
    lab,
    http,
    certProvBase: `${lab.context.httpsBase}/CertProv/CertProvisioningService.svc`,
    httpsBase: lab.context.httpsBase,
    async stop() {
      http.close();
      await lab.stop();
      tmp.remove();
    },
  };
}
