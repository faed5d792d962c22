import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodePkcs7Certificates } from '../../common/pool/chain/pkcs7';
import {
  CHAIN_DOWNLOAD_OFF_ERROR_ID,
  CHAIN_OPERATION,
  CHAIN_PATH,
  CHAIN_QUERY_PARAM,
  PEM_CONTENT_TYPE,
  PKCS7_CONTENT_TYPE,
} from '../../common/pool/chain/wire';
import type { LabContext, LabService, RouteInfo } from '../context';

/**
 * The pool's anonymous CA-chain download (stage 6) on the lab's plain-HTTP listener, in OUR MODEL
 * of the undocumented operation (docs/pool/chain-download.md): `GET /CertProv/CertProvisioningService.svc?op=GetCertChain`
 * → certs-only PKCS#7, or PEM when the client prefers it. Faults:
 * - 'chain-download-off': 403 with X-Ms-diagnostics (EnableCertChainDownload $false [S10][S30]);
 * - 'intermediate-missing': only the root is handed out (the USB-tethering failure [S36]).
 */

/** Does the Accept header rank PEM above PKCS#7? (q-values honoured; ties go to PKCS#7.) */
export function prefersPem(accept: string | undefined): boolean {
  if (!accept) return false;
  let pem = -1;
  let p7 = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    if (type === PEM_CONTENT_TYPE) pem = Math.max(pem, q);
    if (type === PKCS7_CONTENT_TYPE) p7 = Math.max(p7, q);
  }
  return pem > 0 && pem > p7;
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Uint8Array | string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  res.writeHead(status, { ...headers, 'Content-Length': String(bytes.length), 'Cache-Control': 'no-store' });
  res.end(bytes);
}

export function chainHandler(ctx: LabContext) {
  return (req: IncomingMessage, res: ServerResponse, info: RouteInfo): void => {
    const op = info.url.searchParams.get(CHAIN_QUERY_PARAM);
    if (op !== CHAIN_OPERATION) {
      send(res, 400, { 'Content-Type': 'text/plain; charset=utf-8' }, `Unknown operation; use ?${CHAIN_QUERY_PARAM}=${CHAIN_OPERATION}\n`);
      return;
    }
    if (ctx.faults.has('chain-download-off')) {
      ctx.log('chain: download refused (chain-download-off)');
      send(
        res,
        403,
        {
          'Content-Type': 'text/plain; charset=utf-8',
          'X-Ms-diagnostics': `${CHAIN_DOWNLOAD_OFF_ERROR_ID};source="${ctx.poolFqdn}";reason="Certificate chain download is disabled (EnableCertChainDownload is False)"`,
        },
        'Forbidden\n',
      );
      return;
    }
    // chainPems() is [intermediate, root]; the fault drops the intermediate.
    const pems = ctx.faults.has('intermediate-missing') ? [ctx.ca.rootCertPem] : ctx.ca.chainPems();
    if (prefersPem(req.headers.accept)) {
      send(res, 200, { 'Content-Type': PEM_CONTENT_TYPE }, pems.map((p) => p.trimEnd() + '\n').join(''));
    } else {
      send(res, 200, { 'Content-Type': `${PKCS7_CONTENT_TYPE}; smime-type=certs-only` }, encodePkcs7Certificates(pems));
    }
    ctx.log(`chain: handed out ${pems.length} certificate(s)`);
  };
}

export const chainService: LabService = {
  name: 'chain',
  async start(ctx) {
    // Anonymous and plain HTTP only, as CAHandlerInternalAnonUri [S24].
    ctx.routes.add('GET', CHAIN_PATH, chainHandler(ctx), { http: true, https: false });
    return {
      endpoints: { chain: `${ctx.httpBase}${CHAIN_PATH}?${CHAIN_QUERY_PARAM}=${CHAIN_OPERATION}` },
      async stop() {
        // Routes live as long as the lab's listeners; nothing of our own to close.
      },
    };
  },
};
