import { randomBytes } from 'node:crypto';
import {
  formatAuthChallenge,
  header,
  parseAuthChallenge,
  REGISTRAR_REALM,
  signatureBuffer,
  signatureMatches,
  signBuffer,
  tlsDskChallenge,
  TlsDskServerHandshake,
  type AuthChallenge,
  type SipRequest,
  type SipResponse,
  type TlsDskKeys,
  type TlsDskPeer,
} from '../../common/pool/sip';
import type { PeerIdentity } from './handler';

/**
 * The server's half of TLS-DSK for one connection [MS-SIPAE §3.3.5.2]: each REGISTER whose
 * Authorization carries `gssapi-data` feeds the inner TLS handshake of the security association
 * named by `opaque` (a new one when there is none), and the answer is a 401 whose TLS-DSK
 * challenge carries our next flight. Once the handshake is done, requests must be signed
 * (`crand`, `cnum`, `response`); the answers are signed back (`Authentication-Info` with `srand`,
 * `snum`, `rspauth`). The inner TLS requests the client's certificate and OpenSSL verifies it
 * against the lab CA; who it names is checked per REGISTER (handler.ts).
 */

export const TLS_DSK_VERSION = '4';
/** Security associations one connection may hold at once (each is a TLS engine). */
const MAX_SAS = 4;

export interface TlsDskServerOptions {
  readonly targetname: string;
  /** The pool's certificate and key (inner TLS server) and the CAs users' certificates chain to. */
  readonly credentials: () => { readonly cert: string; readonly key: string; readonly ca: string[] };
  /** Hang guard of one handshake step (TlsDskServerHandshake; default 10 s). */
  readonly stepTimeoutMs?: number;
}

interface SecurityAssociation {
  handshake: TlsDskServerHandshake | null;
  keys: TlsDskKeys | null;
  peer: TlsDskPeer | null;
  lastCnum: number;
  snum: number;
}

/** What the acceptor made of a request's Authorization. */
export type AcceptorStep =
  /** No TLS-DSK Authorization for our realm and target: the caller challenges. */
  | { readonly kind: 'unauthenticated' }
  /** Answer with 401 carrying these WWW-Authenticate values (and a reason when the SA failed). */
  | { readonly kind: 'challenge'; readonly challenges: readonly string[]; readonly diagnostic: { readonly id: number; readonly reason: string } | null }
  /** A signed request from an established SA: the caller decides, then `sign`s its answer. */
  | { readonly kind: 'authenticated'; readonly peer: PeerIdentity; readonly sign: (res: SipResponse) => SipResponse };

export class TlsDskAcceptor {
  private readonly sas = new Map<string, SecurityAssociation>();

  constructor(private readonly options: TlsDskServerOptions) {}

  /** The WWW-Authenticate values of a fresh challenge (MS-SIPAE §3.3.5.1). */
  challenges(stsUri: string): string[] {
    return [tlsDskChallenge(this.options.targetname, stsUri)];
  }

  async accept(req: SipRequest, stsUri: string): Promise<AcceptorStep> {
    const auth = this.authorization(req);
    if (auth === null) return { kind: 'unauthenticated' };
    const p = auth.params;
    const fail = (id: number, reason: string, opaque?: string): AcceptorStep => {
      if (opaque !== undefined) this.drop(opaque);
      return { kind: 'challenge', challenges: this.challenges(stsUri), diagnostic: { id, reason } };
    };
    if (p['gssapi-data'] !== undefined) {
      let opaque = p.opaque;
      let sa = opaque === undefined ? undefined : this.sas.get(opaque);
      if (opaque !== undefined && sa === undefined) return fail(1008, 'Unknown security association');
      if (sa === undefined) {
        if (this.sas.size >= MAX_SAS) return fail(1009, 'Too many security associations on this connection');
        opaque = randomBytes(4).toString('hex').toUpperCase();
        sa = { handshake: new TlsDskServerHandshake(this.options.credentials(), this.options.stepTimeoutMs), keys: null, peer: null, lastCnum: 0, snum: 0 };
        this.sas.set(opaque, sa);
      }
      if (sa.handshake === null) return fail(1008, 'The security association is already established', opaque);
      let step;
      try {
        step = await sa.handshake.next(Buffer.from(p['gssapi-data'], 'base64'));
      } catch (err) {
        return fail(1010, `TLS-DSK handshake failed: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`, opaque);
      }
      if (step.established) {
        sa.handshake.close();
        sa.handshake = null;
        const peer = step.established.peer;
        if (peer.certDer === null) return fail(1005, 'No client certificate in the TLS-DSK handshake', opaque);
        if (!peer.authorized) return fail(1006, `The client certificate is not trusted (${peer.authorizationError ?? 'unverified'})`, opaque);
        sa.keys = step.established.keys;
        sa.peer = peer;
      }
      const params = { realm: REGISTRAR_REALM, targetname: this.options.targetname, opaque: opaque!, 'gssapi-data': step.token.toString('base64'), version: TLS_DSK_VERSION };
      return { kind: 'challenge', challenges: [formatAuthChallenge({ scheme: 'TLS-DSK', params })], diagnostic: null };
    }
    const sa = p.opaque === undefined ? undefined : this.sas.get(p.opaque);
    if (sa === undefined || sa.keys === null || sa.peer === null) return fail(1008, 'Unknown security association');
    const cnum = /^[0-9]{1,9}$/.test(p.cnum ?? '') ? Number(p.cnum) : -1;
    const buffer = signatureBuffer(req, { protocol: auth.scheme, rand: p.crand ?? '', num: p.cnum ?? '', realm: p.realm ?? '', targetname: p.targetname ?? '' }, Number(TLS_DSK_VERSION));
    if (cnum <= sa.lastCnum || !signatureMatches(sa.keys.algorithm, sa.keys.clientKey, buffer, p.response ?? '')) {
      return fail(1007, 'The message signature is not valid', p.opaque);
    }
    sa.lastCnum = cnum;
    const keys = sa.keys;
    const opaque = p.opaque!;
    return {
      kind: 'authenticated',
      peer: { authorized: true, certDer: sa.peer.certDer, authorizationError: null },
      sign: (res) => this.sign(res, keys, sa, opaque),
    };
  }

  close(): void {
    for (const opaque of [...this.sas.keys()]) this.drop(opaque);
  }

  private sign(res: SipResponse, keys: TlsDskKeys, sa: SecurityAssociation, opaque: string): SipResponse {
    const srand = randomBytes(4).toString('hex').toUpperCase();
    const snum = String(++sa.snum);
    const base = { realm: REGISTRAR_REALM, targetname: this.options.targetname };
    const buffer = signatureBuffer(res, { protocol: 'TLS-DSK', rand: srand, num: snum, ...base }, Number(TLS_DSK_VERSION));
    const rspauth = signBuffer(keys.algorithm, keys.serverKey, buffer);
    const info = formatAuthChallenge({ scheme: 'TLS-DSK', params: { qop: 'auth', opaque, srand, snum, rspauth, ...base, version: TLS_DSK_VERSION } });
    return { ...res, headers: [...res.headers, { name: 'Authentication-Info', value: info }] };
  }

  /** The request's TLS-DSK Authorization for our realm and targetname, if any. */
  private authorization(req: SipRequest): AuthChallenge | null {
    const value = header(req, 'Authorization');
    if (value === undefined) return null;
    let auth: AuthChallenge;
    try {
      auth = parseAuthChallenge(value);
    } catch {
      return null;
    }
    const ours = auth.scheme.toUpperCase() === 'TLS-DSK' && auth.params.realm === REGISTRAR_REALM && auth.params.targetname === this.options.targetname;
    return ours ? auth : null;
  }

  private drop(opaque: string): void {
    this.sas.get(opaque)?.handshake?.close();
    this.sas.delete(opaque);
  }
}
