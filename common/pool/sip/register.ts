import { TetherError } from '../../errors';
import { formatAuthChallenge, parseAuthChallenge, parseNameAddr, parseSipUri, addressOfRecord, type AuthChallenge } from './fields';
import { header, headers, type SipRequest, type SipResponse } from './message';
import { parseProvisioningBody, PROVISIONING_CONTENT_TYPE, type RegistrarProvisioning } from './provisioning';

/**
 * The REGISTER exchange of stage 9, as pure functions: build the request, read the answer. The
 * Tether helpdesk probe (main/pool/sip) and the virtual phone (native/) each add only a socket.
 *
 * Header set: modelled on SIPE's REGISTER [S29 sip-transport.c]; the phone's exact set is not
 * published [I]. Authentication is TLS-DSK inside SIP (tls-dsk-client.ts, docs/pool/registrar.md):
 * a registrar answers an unauthenticated REGISTER with 401 and a `TLS-DSK` challenge naming the
 * CertProv URL in `sts-uri` [MS-SIPAE §3.3.5.1][S33].
 */

export const REGISTRAR_REALM = 'SIP Communications Service';
export const DEFAULT_REGISTER_EXPIRES = 3600;

/** Per-registration random values; kept apart so tests and the lab can fix them. */
export interface RegisterIds {
  readonly callId: string;
  readonly fromTag: string;
  readonly branch: string;
  /** Endpoint ID (`epid`), stable per device. */
  readonly epid: string;
  /** `+sip.instance` UUID, stable per device. */
  readonly instance: string;
}

function hex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Fresh random IDs (epid and instance should be kept per device by the caller). */
export function newRegisterIds(device?: { epid: string; instance: string }): RegisterIds {
  return {
    callId: hex(16),
    fromTag: hex(8),
    branch: `z9hG4bK${hex(10)}`,
    epid: device?.epid ?? hex(5),
    instance: device?.instance ?? globalThis.crypto.randomUUID(),
  };
}

export interface RegisterRequestOptions {
  /** The user's SIP address, e.g. `sip:alice@contoso.test`. */
  readonly sipUri: string;
  /** Where this client is reachable on its connection (the local address of the socket). */
  readonly local: { readonly host: string; readonly port: number };
  readonly ids: RegisterIds;
  readonly cseq?: number;
  readonly expires?: number;
  readonly userAgent?: string;
}

/** RFC 3261 token characters: what a tag, branch, Call-ID word or epid may hold unquoted. */
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]{1,128}$/;
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** The IDs go into header parameters unquoted: anything else could add parameters or headers. */
function checkIds(ids: RegisterIds): void {
  const bad = (['callId', 'fromTag', 'branch', 'epid'] as const).find((k) => !TOKEN.test(ids[k]));
  const field = bad ?? (UUID.test(ids.instance) ? undefined : 'instance');
  if (field !== undefined) {
    throw new TetherError('BAD_INPUT', `The REGISTER ${field} must be a SIP token${field === 'instance' ? ' (a UUID)' : ''}.`, { stage: 'logon', detail: { field } });
  }
}

export function buildRegister(opts: RegisterRequestOptions): SipRequest {
  checkIds(opts.ids);
  const aor = parseSipUri(opts.sipUri);
  if (aor.user === '') throw new TetherError('BAD_INPUT', `'${opts.sipUri.slice(0, 100)}' is not a SIP address (sip:user@domain).`, { stage: 'logon' });
  const user = `sip:${aor.user}@${aor.host}`;
  const host = opts.local.host.includes(':') ? `[${opts.local.host}]` : opts.local.host;
  const cseq = opts.cseq ?? 1;
  const h = (name: string, value: string) => ({ name, value });
  return {
    kind: 'request',
    method: 'REGISTER',
    uri: `sip:${aor.host}`,
    headers: [
      h('Via', `SIP/2.0/TLS ${host}:${opts.local.port};branch=${opts.ids.branch}`),
      h('Max-Forwards', '70'),
      h('From', `<${user}>;tag=${opts.ids.fromTag};epid=${opts.ids.epid}`),
      h('To', `<${user}>`),
      h('Call-ID', opts.ids.callId),
      h('CSeq', `${cseq} REGISTER`),
      h('Contact', `<sip:${host}:${opts.local.port};transport=tls>;methods="INVITE, MESSAGE, INFO, OPTIONS, BYE, CANCEL, NOTIFY, ACK, REFER, BENOTIFY";proxy=replace;+sip.instance="<urn:uuid:${opts.ids.instance}>"`),
      h('User-Agent', opts.userAgent ?? 'Tether/0.1'),
      h('Supported', 'gruu-10, adhoclist, msrtc-event-categories'),
      h('Event', 'registration'),
      h('Allow-Events', 'presence'),
      h('ms-keep-alive', 'UAC;hop-hop=yes'),
      h('Expires', String(opts.expires ?? DEFAULT_REGISTER_EXPIRES)),
    ],
    body: new Uint8Array(0),
  };
}

export type RegisterOutcome =
  | {
      readonly kind: 'registered';
      /** Granted registration lifetime in seconds. */
      readonly expires: number | null;
      /** The GRUU from the Contact the registrar returned, when it gave one. */
      readonly gruu: string | null;
      readonly provisioning: RegistrarProvisioning;
    }
  | { readonly kind: 'challenge'; readonly challenges: readonly AuthChallenge[]; readonly stsUri: string | null }
  | { readonly kind: 'forbidden'; readonly reason: string; readonly diagnostics: string | null }
  | { readonly kind: 'failed'; readonly status: number; readonly reason: string; readonly diagnostics: string | null };

function mismatch(what: string): TetherError {
  return new TetherError('SIP_MESSAGE_MALFORMED', `The registrar's answer does not belong to this REGISTER (${what}).`, {
    detail: { reason: 'not-our-transaction', field: what },
  });
}

/** Checks that `res` answers `req` (Call-ID, CSeq, From tag), so a stray answer is never taken as ours. */
export function matchesRequest(req: SipRequest, res: SipResponse): boolean {
  try {
    assertMatches(req, res);
    return true;
  } catch {
    return false;
  }
}

function assertMatches(req: SipRequest, res: SipResponse): void {
  if (header(res, 'Call-ID') !== header(req, 'Call-ID')) throw mismatch('Call-ID');
  const cseq = (header(res, 'CSeq') ?? '').trim().split(/\s+/);
  const want = (header(req, 'CSeq') ?? '').trim().split(/\s+/);
  if (cseq[0] !== want[0] || cseq[1] !== req.method) throw mismatch('CSeq');
  const from = header(res, 'From');
  const reqFrom = header(req, 'From');
  if (from === undefined || reqFrom === undefined) throw mismatch('From');
  if (parseNameAddr(from, 'From').params.tag !== parseNameAddr(reqFrom, 'From').params.tag) throw mismatch('From tag');
}

/** Reads a final answer to `req` into an outcome; a malformed or foreign answer is a typed error. */
export function interpretRegisterResponse(req: SipRequest, res: SipResponse): RegisterOutcome {
  if (res.status < 200) throw new TetherError('BAD_INPUT', 'A provisional (1xx) answer is not a final REGISTER outcome.');
  assertMatches(req, res);
  const diagnostics = header(res, 'ms-diagnostics') ?? header(res, 'Warning') ?? null;
  if (res.status >= 200 && res.status < 300) {
    const type = (header(res, 'Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== PROVISIONING_CONTENT_TYPE) {
      throw new TetherError('REGISTRAR_PROVISIONING_MALFORMED', `The registrar's 200 OK carries '${type || 'no body'}', not provisioning values.`, {
        detail: { contentType: type },
      });
    }
    const provisioning = parseProvisioningBody(res.body);
    const expiresHeader = header(res, 'Expires');
    let expires: number | null = expiresHeader !== undefined && /^[0-9]{1,10}$/.test(expiresHeader) ? Number(expiresHeader) : null;
    let gruu: string | null = null;
    const contact = header(res, 'Contact');
    if (contact !== undefined) {
      const params = parseNameAddr(contact, 'Contact').params;
      if (params.expires !== undefined && /^[0-9]{1,10}$/.test(params.expires)) expires = Number(params.expires);
      gruu = params['pub-gruu'] ?? params.gruu ?? null;
    }
    return { kind: 'registered', expires, gruu, provisioning };
  }
  if (res.status === 401 || res.status === 407) {
    const challenges = headers(res, res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate').map(parseAuthChallenge);
    const dsk = challenges.find((c) => c.scheme.toUpperCase() === 'TLS-DSK');
    return { kind: 'challenge', challenges, stsUri: dsk?.params['sts-uri'] ?? null };
  }
  if (res.status === 403 || res.status === 404) return { kind: 'forbidden', reason: res.reason, diagnostics };
  return { kind: 'failed', status: res.status, reason: res.reason, diagnostics };
}

/** The typed error for an outcome that is not `registered` (null when it is). */
export function outcomeError(outcome: RegisterOutcome, context: { readonly registrar: string; readonly sipUri: string }): TetherError | null {
  const base = { registrar: context.registrar, sipUri: context.sipUri };
  switch (outcome.kind) {
    case 'registered':
      return null;
    case 'challenge':
      return new TetherError(
        'REGISTRAR_CERT_REQUIRED',
        outcome.stsUri === null
          ? 'The Registrar asked for authentication, and no certificate it accepts was presented.'
          : `The Registrar asked for a user certificate; get one from ${outcome.stsUri} (stages 7 and 8).`,
        { detail: { ...base, stsUri: outcome.stsUri, schemes: outcome.challenges.map((c) => c.scheme).join(',') } },
      );
    case 'forbidden':
      return new TetherError('REGISTRAR_FORBIDDEN', `The Registrar refused ${context.sipUri}: ${outcome.reason}.`, {
        detail: { ...base, reason: outcome.reason, diagnostics: outcome.diagnostics },
      });
    case 'failed':
      return new TetherError('REGISTRAR_REJECTED', `The Registrar answered SIP ${outcome.status} ${outcome.reason}.`, {
        detail: { ...base, status: outcome.status, reason: outcome.reason, diagnostics: outcome.diagnostics },
      });
  }
}

/** The registrar side: a response to `req` copying Via, From, To (with our tag), Call-ID and CSeq. */
export function buildResponse(
  req: SipRequest,
  status: number,
  reason: string,
  extra: readonly { name: string; value: string }[] = [],
  body?: { type: string; text: string },
  toTag?: string,
): SipResponse {
  const copy = (name: string) => headers(req, name).map((value) => ({ name, value }));
  const to = header(req, 'To') ?? '';
  const toValue = toTag !== undefined && !/;\s*tag=/i.test(to) ? `${to};tag=${toTag}` : to;
  return {
    kind: 'response',
    status,
    reason,
    headers: [
      ...copy('Via'),
      ...copy('From'),
      { name: 'To', value: toValue },
      ...copy('Call-ID'),
      ...copy('CSeq'),
      ...extra,
      ...(body ? [{ name: 'Content-Type', value: body.type }] : []),
    ],
    body: body ? new TextEncoder().encode(body.text) : new Uint8Array(0),
  };
}

/** A fresh TLS-DSK challenge: realm, targetname, version 4 and sts-uri [MS-SIPAE §3.3.5.1]. */
export function tlsDskChallenge(targetname: string, stsUri: string): string {
  return formatAuthChallenge({
    scheme: 'TLS-DSK',
    params: { realm: REGISTRAR_REALM, targetname, version: '4', 'sts-uri': stsUri },
  });
}

/** The From and To addresses of record of a REGISTER (lower-cased), or a typed error. */
export function registerAddresses(req: SipRequest): { readonly from: string; readonly to: string } {
  const to = header(req, 'To');
  const from = header(req, 'From');
  if (to === undefined || from === undefined) {
    throw new TetherError('SIP_MESSAGE_MALFORMED', 'A REGISTER needs From and To headers.', { detail: { reason: 'missing-header' } });
  }
  return { from: addressOfRecord(parseNameAddr(from, 'From').uri), to: addressOfRecord(parseNameAddr(to, 'To').uri) };
}
