import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toTetherError } from '../../common/errors';
import {
  decodeDeviceUpdateRequest,
  DEVICE_UPDATE_CONTENT_TYPE,
  encodeDeviceUpdateResponse,
  MAX_DEVICE_UPDATE_XML,
  storePath,
} from '../../common/pool/device-update-wire';
import type { LabContext, LabService, LabServiceHandle } from '../context';
import { DeviceUpdateStore } from './store';

/** Internal and external handler and file paths [S21][S24]. */
export const UPX_INTERNAL = '/RequestHandler/ucdevice.upx';
export const UPX_EXTERNAL = '/RequestHandlerExt/ucdevice.upx';
export const FILES_INTERNAL = '/RequestHandler/Files/';
export const FILES_EXTERNAL = '/RequestHandlerExt/Files/';

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
}

/**
 * The lab's Device Update Web service. 'device-update-500' makes ucdevice.upx answer 500;
 * 'slow-responses' is applied to every answer by the lab's HTTP listener. The external handler
 * refuses anonymous requests, as Lync does outside the firewall [S19].
 */
export function deviceUpdateHandlers(ctx: Pick<LabContext, 'faults' | 'httpBase' | 'httpsBase' | 'log'>, store: DeviceUpdateStore) {
  const upx = async (req: IncomingMessage, res: ServerResponse) => {
    if (ctx.faults.has('device-update-500')) {
      req.resume();
      plain(res, 500, 'Device Update Web service error (lab fault device-update-500).');
      return;
    }
    const body = await readBody(req, MAX_DEVICE_UPDATE_XML);
    if (body === null) {
      plain(res, 413, `The request exceeds ${MAX_DEVICE_UPDATE_XML} bytes.`);
      return;
    }
    try {
      await store.reload();
    } catch (err) {
      plain(res, 500, toTetherError(err).message);
      return;
    }
    let id;
    try {
      id = decodeDeviceUpdateRequest(body);
    } catch (err) {
      plain(res, 400, toTetherError(err).message);
      return;
    }
    const pick = store.select(id);
    ctx.log(`device-update: ${id.vendor} ${id.model} ${id.revision} ${id.locale} ${id.serial}: ${pick.image ? `${pick.image.version} (${pick.why})` : pick.why}`);
    const xml = pick.image
      ? encodeDeviceUpdateResponse({
          baseUrl: `${ctx.httpBase}${FILES_INTERNAL}${storePath(pick.image, pick.image.version)}`,
          externalBaseUrl: `${ctx.httpsBase}${FILES_EXTERNAL}${storePath(pick.image, pick.image.version)}`,
          modules: [pick.image],
        })
      : encodeDeviceUpdateResponse({ baseUrl: null, externalBaseUrl: null, modules: [] });
    res.writeHead(200, { 'Content-Type': DEVICE_UPDATE_CONTENT_TYPE }).end(xml);
  };

  const upxExternal = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    // The lab has no authenticated external path: an anonymous device is always refused here.
    plain(res, 401, 'Anonymous access to the Device Update Web service is not supported.', { 'WWW-Authenticate': 'NTLM' });
  };

  const files = (prefix: string) => async (req: IncomingMessage, res: ServerResponse, info: { url: URL }) => {
    let relative: string;
    try {
      relative = decodeURIComponent(info.url.pathname.slice(prefix.length));
    } catch {
      plain(res, 400, 'Bad path.');
      return;
    }
    const path = store.fileFor(relative);
    const st = path === null ? null : await stat(path).catch(() => null);
    if (path === null || !st?.isFile()) {
      plain(res, 404, 'No such file in the Device Update store.');
      return;
    }
    ctx.log(`device-update: ${req.method} ${relative} (${st.size} bytes)`);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(st.size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(path);
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  };

  return { upx, upxExternal, files };
}

export const deviceUpdateService: LabService = {
  name: 'device-update',
  async start(ctx: LabContext): Promise<LabServiceHandle> {
    const store = await DeviceUpdateStore.open(ctx.stateDir);
    const h = deviceUpdateHandlers(ctx, store);
    ctx.routes.add('POST', UPX_INTERNAL, h.upx);
    ctx.routes.add('POST', UPX_EXTERNAL, h.upxExternal, { http: false, https: true });
    ctx.routes.add('GET', `${FILES_INTERNAL}*`, h.files(FILES_INTERNAL));
    ctx.routes.add('GET', `${FILES_EXTERNAL}*`, h.files(FILES_EXTERNAL), { http: false, https: true });
    const fqdn = `ucupdates-r2.${ctx.domain}`;
    const port = (base: string) => new URL(base).port;
    return {
      endpoints: {
        deviceUpdate: `https://${fqdn}:${port(ctx.httpsBase)}${UPX_INTERNAL}`,
        deviceUpdateStore: store.dir,
      },
      async stop() {
        // Routes live as long as the listeners; nothing else to release.
      },
    };
  },
};

export { DeviceUpdateStore };
