import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { TetherError } from '../../common/errors';
import { CHAIN_PATH } from '../../common/pool/chain/wire';
import { serializeSipMessage, SipStreamDecoder, type RegistrarProvisioning, type SipRequest, type SipResponse } from '../../common/pool/sip';
import type { FaultName, LabContext, LabService, LabServiceHandle } from '../context';
import { CERT_FAULTS } from '../http/tls';
import { handleRegister, UNAUTHENTICATED, withDiagnostic, type RegistrarPolicy } from './handler';
import { TlsDskAcceptor } from './tls-dsk';

/**
 * The lab's registrar (stage 9): SIP over server-authenticated TLS on the pool FQDN; users
 * authenticate inside SIP with TLS-DSK [MS-SIPAE] (tls-dsk.ts, docs/pool/registrar.md). It
 * publishes its port in the lab's
 * SIP SRV records, presents the lab's server certificate (certificate faults included), and
 * resets every connection while 'registrar-unreachable' is on (the port stays bound), and delays every
 * answer by faults.slowMs while 'slow-responses' is on (as the HTTP listeners do).
 */

export interface RegistrarServiceOptions {
  /** Port to listen on; 0 (default) takes a free one (real registrars use 5061). */
  readonly port?: number;
  /** PIN policy and lock timeout handed out in-band; defaults match Lync's (Set-CsPinPolicy, Set-CsUCPhoneConfiguration). */
  readonly enforcePinLock?: boolean;
  readonly minPinLength?: number;
  readonly phoneTimeoutSeconds?: number;
  readonly maxExpires?: number;
  /** Idle connections are closed after this long. */
  readonly idleMs?: number;
}

export function registrarPolicy(ctx: LabContext, options: RegistrarServiceOptions = {}): RegistrarPolicy {
  const https = new URL(ctx.httpsBase);
  const base = (path: string) => `${https.origin}${path}`;
  const provisioning: RegistrarProvisioning = {
    registrarFqdn: ctx.poolFqdn,
    deviceUpdateInternalUrl: base('/RequestHandler/ucdevice.upx'),
    // The external view's Web Services when it runs (lab/external), else the pool's own origin.
    deviceUpdateExternalUrl: `${ctx.external?.httpsBase ?? https.origin}/RequestHandlerExt/ucdevice.upx`,
    enforcePinLock: options.enforcePinLock ?? true,
    minPinLength: options.minPinLength ?? 5,
    phoneTimeoutSeconds: options.phoneTimeoutSeconds ?? 600,
  };
  return { targetname: ctx.poolFqdn, stsUri: base(CHAIN_PATH), provisioning, maxExpires: options.maxExpires ?? 3600 };
}

export function createRegistrarService(options: RegistrarServiceOptions = {}): LabService {
  return {
    name: 'registrar',
    start: (ctx) => startRegistrar(ctx, options),
  };
}

async function startRegistrar(ctx: LabContext, options: RegistrarServiceOptions): Promise<LabServiceHandle> {
  const policy = registrarPolicy(ctx, options);
  const sockets = new Set<Socket>();
  const idleMs = options.idleMs ?? 120_000;
  // The inner TLS presents the pool certificate as it is now (faults included) and verifies users'
  // certificates against the lab's root and intermediate (expiry included).
  const credentials = () => ({ ...ctx.tls.current(), ca: ctx.ca.chainPems() });

  // Outer TLS: server-authenticated only, as with real pools; no client certificate is asked for.
  const server: Server = createServer({ ...ctx.tls.current() }, (socket) => serve(socket));
  server.on('tlsClientError', (err) => ctx.log(`registrar: TLS handshake failed: ${err.message}`));
  server.on('connection', (raw: Socket) => {
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
  });

  function serve(socket: TLSSocket): void {
    const decoder = new SipStreamDecoder();
    const acceptor = new TlsDskAcceptor({ targetname: policy.targetname, credentials });
    // Requests are answered one after another: a TLS-DSK step is asynchronous.
    let queue = Promise.resolve();
    // Answers go out in request order even when slowMs changes between two requests.
    let sent = Promise.resolve();
    const timers = new Set<NodeJS.Timeout>();
    const delay = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, ms);
        timers.add(t);
      });
    const send = (bytes: Uint8Array) => {
      const slowMs = ctx.faults.has('slow-responses') ? ctx.faults.slowMs : 0;
      if (slowMs <= 0 && timers.size === 0) {
        socket.write(bytes);
        return;
      }
      sent = sent.then(() => delay(slowMs)).then(() => {
        if (!socket.destroyed) socket.write(bytes);
      });
    };
    socket.setTimeout(idleMs, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      acceptor.close();
      // A timer that never fires leaves its promise pending; nothing else waits on it.
      for (const t of timers) clearTimeout(t);
      timers.clear();
    });
    socket.on('data', (chunk: Buffer) => {
      let messages;
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        ctx.log(`registrar: dropped a connection: ${err instanceof TetherError ? err.message : String(err)}`);
        socket.destroy();
        return;
      }
      for (const msg of messages) {
        if (msg.kind !== 'request') continue; // responses to nothing we sent are ignored
        queue = queue.then(async () => {
          if (socket.destroyed) return;
          let res, bytes;
          try {
            res = await answer(msg, acceptor);
            bytes = serializeSipMessage(res);
          } catch (err) {
            // A request we cannot answer (e.g. a header we cannot echo back) costs its connection,
            // never the lab: an exception here would be unhandled.
            ctx.log(`registrar: dropped a connection: cannot answer ${msg.method}: ${(err as Error).message}`);
            socket.destroy();
            return;
          }
          ctx.log(`registrar: ${msg.method} → ${res.status} ${res.reason}`);
          send(bytes);
        });
      }
    });
  }

  /** TLS-DSK first (MS-SIPAE §3.3.5.2), then who may register (handler.ts). */
  async function answer(msg: SipRequest, acceptor: TlsDskAcceptor): Promise<SipResponse> {
    if (msg.method !== 'REGISTER') return handleRegister(msg, UNAUTHENTICATED, ctx.users, policy);
    const step = await acceptor.accept(msg, policy.stsUri);
    if (step.kind === 'authenticated') return step.sign(handleRegister(msg, step.peer, ctx.users, policy));
    const res = handleRegister(msg, UNAUTHENTICATED, ctx.users, policy);
    if (step.kind === 'unauthenticated' || res.status !== 401) return res;
    // A 401 for this request, whose challenge is the acceptor's (the next flight, or a fresh one).
    const challenged = { ...res, headers: [...res.headers.filter((h) => h.name.toLowerCase() !== 'www-authenticate'), ...step.challenges.map((value) => ({ name: 'WWW-Authenticate', value }))] };
    return step.diagnostic === null ? challenged : withDiagnostic(challenged, step.diagnostic.id, step.diagnostic.reason, policy);
  }

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, ctx.host, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  const port = await listen(options.port ?? 0);
  // 'registrar-unreachable' resets every connection at once instead of closing the listener: the
  // port stays ours, so no other program (another lab, a parallel test) can take it and answer in
  // the registrar's place, and switching the fault off needs no re-listen that could fail.
  server.on('connection', (raw: Socket) => {
    if (ctx.faults.has('registrar-unreachable')) raw.resetAndDestroy();
  });
  const onFault = (fault: FaultName | 'slowMs') => {
    if (CERT_FAULTS.has(fault)) server.setSecureContext({ ...ctx.tls.current() });
    if (fault === 'registrar-unreachable' && ctx.faults.has(fault)) for (const s of sockets) s.destroy();
  };
  const unsubscribe = ctx.faults.onChange(onFault);
  if (ctx.faults.has('registrar-unreachable')) onFault('registrar-unreachable');
  ctx.dns.setSipPort('tls', port);

  return {
    endpoints: { sip: `sip:${ctx.poolFqdn}:${port};transport=tls`, registrarPort: port },
    async stop() {
      unsubscribe();
      await close();
    },
  };
}

export const registrarService = createRegistrarService();
