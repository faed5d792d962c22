import { TetherError } from '../../errors';
import { DEFAULT_SIP_LIMITS, serializeSipMessage, SipStreamDecoder, type SipLimits } from './codec';
import type { SipRequest, SipResponse } from './message';
import { buildRegister, interpretRegisterResponse, matchesRequest, outcomeError, type RegisterOutcome, type RegisterRequestOptions } from './register';
import type { RegistrarProvisioning } from './provisioning';
import type { SecurityAssociation } from './tls-dsk-client';

/**
 * One REGISTER transaction with no socket in it: it hands out the bytes to send and eats the bytes
 * received, and says when the outcome is known. The PC probe (main/pool/sip) and the virtual phone
 * (native/) each wrap it in their own TLS socket, so both speak exactly the same stage-9 protocol.
 */

export interface Registration {
  readonly sipUri: string;
  readonly registrar: string;
  readonly expires: number | null;
  readonly gruu: string | null;
  readonly provisioning: RegistrarProvisioning;
  /** The TLS-DSK security association the sign-in established; null when none was asked for. */
  readonly securityAssociation: SecurityAssociation | null;
}

export type TransactionStep =
  | { readonly done: false }
  | { readonly done: true; readonly registration: Registration }
  | { readonly done: true; readonly error: TetherError };

export class RegisterTransaction {
  readonly request: SipRequest;
  private readonly decoder: SipStreamDecoder;
  private finished: TransactionStep | null = null;
  private readonly sipUriAsGiven: string;

  constructor(
    options: RegisterRequestOptions,
    /** `host:port` of the registrar, for messages and error detail. */
    private readonly registrar: string,
    limits: SipLimits = DEFAULT_SIP_LIMITS,
  ) {
    this.request = buildRegister(options);
    this.sipUriAsGiven = options.sipUri;
    this.decoder = new SipStreamDecoder(limits);
  }

  /** The REGISTER on the wire. */
  bytes(): Uint8Array {
    return serializeSipMessage(this.request);
  }

  /**
   * Feeds received bytes. Provisional answers, requests from the server and answers to other
   * transactions are skipped; the first final answer to ours ends the transaction. A framing or
   * content error ends it with that typed error.
   */
  receive(chunk: Uint8Array): TransactionStep {
    if (this.finished) return this.finished;
    try {
      for (const msg of this.decoder.push(chunk)) {
        if (msg.kind !== 'response' || msg.status < 200 || !matchesRequest(this.request, msg)) continue;
        return (this.finished = this.conclude(interpretRegisterResponse(this.request, msg as SipResponse)));
      }
    } catch (err) {
      return (this.finished = { done: true, error: err instanceof TetherError ? err : new TetherError('INTERNAL', String(err), { cause: err }) });
    }
    return { done: false };
  }

  private conclude(outcome: RegisterOutcome): TransactionStep {
    const sipUri = this.sipUriAsGiven;
    const error = outcomeError(outcome, { registrar: this.registrar, sipUri });
    if (error || outcome.kind !== 'registered') return { done: true, error: error ?? new TetherError('INTERNAL', 'Unexpected REGISTER outcome.') };
    return {
      done: true,
      registration: { sipUri, registrar: this.registrar, expires: outcome.expires, gruu: outcome.gruu, provisioning: outcome.provisioning, securityAssociation: null },
    };
  }
}
