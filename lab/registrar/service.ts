import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { TetherError } from '../../common/errors';
import { CHAIN_PATH } from '../../common/pool/chain/wire';
import { serializeSipMessage, SipStreamDecoder, type RegistrarProvisioning } from '../../common/pool/sip';
import type { FaultName, LabContext, LabService, LabServiceHandle } from '../context';
import { CERT_FAULTS } from '../http/tls';
import { handleRegister, type RegistrarPolicy } from './handler';

/**
 * The lab's registrar (stage 9): SIP over TLS on the pool FQDN, with mutual TLS against the lab CA
 * as OUR simplification of TLS-DSK (docs/pool/registrar.md). It publishes its port in the lab's
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
  const clientCas = ctx.ca.chainPems();
  const sockets = new Set<Socket>();
  const idleMs = options.idleMs ?? 120_000;

  const server: Server = createServer(
    {
      ...ctx.tls.current(),
      ca: clientCas,
      requestCert: true,
      // Client authentication is OPTIONAL at the TLS layer on purpose: OpenSSL still verifies any
      // certificate presented against `ca` (the lab's root and intermediate only; expiry included),
      // and sets socket.authorized. The registrar answers a missing or unverified certificate
      // (expired, or from another CA such as a recreated state folder) with a SIP 401 challenge,
      // as a real registrar does, instead of failing the handshake; 200 also needs the
      // certificate's SIP URI to be the From/To user and that user to be unlocked (handler.ts).
      // This is the server side; clients always verify the server.
      rejectUnauthorized: false,
    },
    (socket) => serve(socket),
  );
  server.on('tlsClientError', (err) => ctx.log(`registrar: TLS handshake failed: ${err.message}`));
  server.on('connection', (raw: Socket) => {
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
  });

  function serve(socket: TLSSocket): void {
    const decoder = new SipStreamDecoder();
    const der = socket.getPeerX509Certificate()?.raw ?? null;
    const peer = {
      authorized: socket.authorized,
      certDer: der === null ? null : Buffer.from(der),
      authorizationError: socket.authorizationError === undefined ? null : String(socket.authorizationError),
    };
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
        let res, bytes;
        try {
          res = handleRegister(msg, peer, ctx.users, policy);
          bytes = serializeSipMessage(res);
        } catch (err) {
          // A request we cannot answer (e.g. a header we cannot echo back) costs its connection,
          // never the lab: an exception here would be uncaught.
          ctx.log(`registrar: dropped a connection: cannot answer ${msg.method}: ${(err as Error).message}`);
          socket.destroy();
          return;
        }
        ctx.log(`registrar: ${msg.method} → ${res.status} ${res.reason}`);
        send(bytes);
      }
    });
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
    if (CERT_FAULTS.has(fault)) server.setSecureContext({ ...ctx.tls.current(), ca: clientCas });
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
