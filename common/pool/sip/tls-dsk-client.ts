import { randomBytes } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { TetherError } from '../../errors';
import { formatAuthChallenge, parseAuthChallenge, type AuthChallenge } from './fields';
import { header, headers, type SipRequest, type SipResponse } from './message';
import { securityAssociationRefreshMs } from './sa-timer';
import { signatureBuffer, signatureMatches, signBuffer } from './signature';
import { TlsDskClientHandshake, type TlsDskKeys } from './tls-dsk-engine';

/**
 * The client's half of TLS-DSK [MS-SIPAE §3.2.5.1, §3.2.5.2], apart from any socket: it answers
 * each 401's TLS-DSK challenge with the next inner-TLS flight (`gssapi-data`, echoing `opaque`),
 * signs the REGISTER that follows the handshake (`crand`, `cnum`, `response`) and checks the
 * server's `rspauth` in `Authentication-Info`. As SIPE's sip-transport.c does: version taken
 * from the challenge, crand 8 hex digits, cnum counting from 1.
 */

export interface TlsDskCredential {
  /** The user's certificate and key, and the CAs trusted for the inner server certificate. */
  secureContext(): SecureContext;
  /** The user's certificate (DER), for the security association's lifetime. */
  readonly certificateDer: Uint8Array;
}

export interface SecurityAssociation {
  readonly protocol: 'TLS-DSK';
  readonly innerTls: string;
  readonly cipher: string;
  readonly certNotAfter: Date | null;
  /** When to authenticate afresh: min(certificate expiry, 8 h) less a margin [MS-SIPAE §3.2.2]. */
  readonly refreshAfterMs: number;
}

export const TLS_DSK = 'TLS-DSK';
/** More 401s than a TLS 1.2 handshake needs means the server is not finishing it. */
const MAX_HANDSHAKE_ROUNDS = 4;

type Step = { readonly authorize: (req: SipRequest) => SipRequest } | { readonly error: TetherError };

function rejected(message: string, res: SipResponse, where: string, extra: Record<string, string | number | null> = {}): TetherError {
  return new TetherError('REGISTRAR_CERT_REJECTED', message, {
    detail: { registrar: where, status: res.status, diagnostics: header(res, 'ms-diagnostics') ?? null, ...extra },
  });
}

export class TlsDskClientAuth {
  private handshake: TlsDskClientHandshake | null = null;
  private challenge: AuthChallenge | null = null;
  private keys: TlsDskKeys | null = null;
  private certNotAfter: Date | null = null;
  private rounds = 0;
  private cnum = 0;

  constructor(
    private readonly credential: TlsDskCredential,
    private readonly where: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** True once the inner handshake is done and requests are signed. */
  get established(): boolean {
    return this.keys !== null;
  }

  /** Answers a 401: the next Authorization to put on a new REGISTER, or why not. */
  async answer(res: SipResponse): Promise<Step> {
    const dsk = headers(res, 'WWW-Authenticate')
      .map(parseAuthChallenge)
      .find((c) => c.scheme.toUpperCase() === TLS_DSK);
    if (this.keys !== null) return { error: rejected('The Registrar refused the signed REGISTER after the TLS-DSK handshake.', res, this.where) };
    if (!dsk) {
      return this.handshake
        ? { error: rejected('The Registrar ended the TLS-DSK handshake: it did not accept the certificate.', res, this.where) }
        : {
            // Not a verdict on the certificate: this Registrar does not speak what phones use.
            error: new TetherError('REGISTRAR_REJECTED', 'The Registrar asked for authentication but offers no TLS-DSK (the only scheme a phone uses to sign in).', {
              detail: { registrar: this.where, status: res.status, schemes: headers(res, 'WWW-Authenticate').join(' | ').slice(0, 300) },
            }),
          };
    }
    if (++this.rounds > MAX_HANDSHAKE_ROUNDS) return { error: rejected('The TLS-DSK handshake did not finish.', res, this.where) };
    try {
      if (this.handshake === null) {
        this.challenge = dsk;
        this.handshake = new TlsDskClientHandshake(this.credential.secureContext(), dsk.params.targetname ?? '', this.credential.certificateDer);
        return this.withToken(await this.handshake.start());
      }
      const data = dsk.params['gssapi-data'];
      if (data === undefined || data === '') {
        return { error: rejected('The Registrar ended the TLS-DSK handshake: it did not accept the certificate.', res, this.where) };
      }
      this.challenge = { scheme: dsk.scheme, params: { ...this.challenge!.params, ...dsk.params } };
      const step = await this.handshake.next(Buffer.from(data, 'base64'));
      if (step.kind === 'token') return this.withToken(step.token);
      this.keys = step.keys;
      this.certNotAfter = step.certNotAfter;
      this.handshake.close();
      return { authorize: (req) => this.sign(req) };
    } catch (err) {
      this.handshake?.close();
      return {
        error: new TetherError('REGISTRAR_TLS_FAILED', `The TLS-DSK handshake with the Registrar ${this.where} failed: ${(err as Error).message}`, {
          detail: { registrar: this.where, phase: 'tls-dsk', reason: (err as Error).message.slice(0, 300) },
          cause: err,
        }),
      };
    }
  }

  /** Checks the server's signature on the final answer [MS-SIPAE §3.2.5.2]; null when it holds. */
  verify(res: SipResponse): TetherError | null {
    if (this.keys === null || this.challenge === null) return null;
    const info = header(res, 'Authentication-Info');
    const bad = (why: string) =>
      new TetherError('REGISTRAR_SIGNATURE_INVALID', `The Registrar's answer is not signed by the TLS-DSK security association (${why}).`, {
        detail: { registrar: this.where, reason: why },
      });
    if (info === undefined) return bad('no Authentication-Info');
    let auth: AuthChallenge;
    try {
      auth = parseAuthChallenge(info);
    } catch {
      return bad('unreadable Authentication-Info');
    }
    const p = auth.params;
    if (auth.scheme.toUpperCase() !== TLS_DSK || p.realm !== this.challenge.params.realm || p.targetname !== this.challenge.params.targetname) {
      return bad('another security association');
    }
    const buffer = signatureBuffer(res, { protocol: auth.scheme, rand: p.srand ?? '', num: p.snum ?? '', realm: p.realm ?? '', targetname: p.targetname ?? '' }, this.version());
    return signatureMatches(this.keys.algorithm, this.keys.serverKey, buffer, p.rspauth ?? '') ? null : bad('rspauth does not match');
  }

  securityAssociation(): SecurityAssociation | null {
    if (this.keys === null) return null;
    return {
      protocol: TLS_DSK,
      innerTls: this.keys.protocol,
      cipher: this.keys.cipher,
      certNotAfter: this.certNotAfter,
      refreshAfterMs: securityAssociationRefreshMs(this.now(), this.certNotAfter),
    };
  }

  close(): void {
    this.handshake?.close();
  }

  private version(): number {
    const v = Number(this.challenge?.params.version ?? '');
    return Number.isInteger(v) && v > 0 ? v : 3;
  }

  private base(): Record<string, string> {
    const c = this.challenge!.params;
    return { qop: 'auth', ...(c.opaque !== undefined ? { opaque: c.opaque } : {}), realm: c.realm ?? '', targetname: c.targetname ?? '' };
  }

  private withToken(token: Uint8Array): Step {
    const params = { ...this.base(), 'gssapi-data': Buffer.from(token).toString('base64'), ...(this.challenge!.params.version ? { version: this.challenge!.params.version } : {}) };
    const value = formatAuthChallenge({ scheme: TLS_DSK, params });
    return { authorize: (req) => withHeader(req, value) };
  }

  private sign(req: SipRequest): SipRequest {
    const crand = randomBytes(4).toString('hex');
    const cnum = String(++this.cnum);
    const base = this.base();
    const buffer = signatureBuffer(req, { protocol: TLS_DSK, rand: crand, num: cnum, realm: base.realm!, targetname: base.targetname! }, this.version());
    const response = signBuffer(this.keys!.algorithm, this.keys!.clientKey, buffer);
    return withHeader(req, formatAuthChallenge({ scheme: TLS_DSK, params: { ...base, crand, cnum, response } }));
  }
}

function withHeader(req: SipRequest, value: string): SipRequest {
  return { ...req, headers: [...req.headers.filter((h) => h.name.toLowerCase() !== 'authorization'), { name: 'Authorization', value }] };
}
