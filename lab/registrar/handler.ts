import { X509Certificate } from 'node:crypto';
import { TetherError } from '../../common/errors';
import {
  addressOfRecord,
  buildProvisioningBody,
  buildResponse,
  header,
  PROVISIONING_CONTENT_TYPE,
  registerAddresses,
  tlsDskChallenge,
  type RegistrarProvisioning,
  type SipRequest,
  type SipResponse,
} from '../../common/pool/sip';
import type { LabUsers } from '../context';

/**
 * The lab registrar's decisions once TLS-DSK (tls-dsk.ts) has run: a request that is not signed
 * by an established security association gets 401 with the TLS-DSK challenge naming the CertProv
 * URL [MS-SIPAE §3.3.5.1]; a signed one whose certificate names another user, or an unknown or
 * locked user, gets 403; otherwise 200 OK with the in-band provisioning values.
 */

/** What TLS-DSK established about the client. */
export interface PeerIdentity {
  /** True only for a request signed by an SA whose inner certificate chains to the lab CA. */
  readonly authorized: boolean;
  /** The presented certificate (DER), verified or not. */
  readonly certDer: Buffer | null;
  /** OpenSSL's reason when not authorized. */
  readonly authorizationError: string | null;
}

/** A request no security association signed. */
export const UNAUTHENTICATED: PeerIdentity = { authorized: false, certDer: null, authorizationError: null };

/** `res` with an ms-diagnostics header (id and reason are ours: OUR MODEL, see docs/pool/registrar.md). */
export function withDiagnostic(res: SipResponse, id: number, reason: string, policy: RegistrarPolicy): SipResponse {
  return { ...res, headers: [...res.headers, { name: 'ms-diagnostics', value: `${id};reason="${reason.replace(/["\\\r\n]/g, "'")}";source="${policy.targetname}"` }] };
}

export interface RegistrarPolicy {
  readonly targetname: string;
  readonly stsUri: string;
  readonly provisioning: RegistrarProvisioning;
  /** Registration lifetime granted (seconds). */
  readonly maxExpires: number;
}

/**
 * The SIP URIs a user certificate names: its SAN URIs; the CN only when the certificate has no SAN
 * URI at all (so a SAN naming someone else is never overruled by the CN).
 */
export function certificateSipUris(der: Buffer): string[] {
  const x509 = new X509Certificate(der);
  // Node lists SAN entries as "TYPE:value, …" and JSON-quotes a value with special characters
  // (its commas become \u002c), so splitting on ", " never cuts inside a value.
  const uris: string[] = [];
  for (const part of (x509.subjectAltName ?? '').split(', ')) {
    if (!part.startsWith('URI:')) continue;
    const raw = part.slice(4);
    try {
      uris.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
    } catch {
      uris.push(''); // unreadable: counts as a SAN URI, matches nobody
    }
  }
  if (uris.length > 0) return uris.filter((u) => /^sip:/i.test(u));
  const cn = /(?:^|\n)CN=(sip:[^\n]+)/i.exec(x509.subject)?.[1];
  return cn ? [cn] : [];
}

function toTag(callId: string): string {
  // Stable per dialog and opaque; the registrar keeps no dialog state.
  let h = 0;
  for (const c of callId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `lab${h.toString(16)}`;
}

export function handleRegister(req: SipRequest, peer: PeerIdentity, users: LabUsers, policy: RegistrarPolicy): SipResponse {
  const tag = toTag(header(req, 'Call-ID') ?? '');
  const reply = (status: number, reason: string, extra: { name: string; value: string }[] = [], body?: { type: string; text: string }) =>
    buildResponse(req, status, reason, [{ name: 'Server', value: 'Tether-Lab-Registrar' }, ...extra], body, tag);
  const diag = (id: number, reason: string) => ({ name: 'ms-diagnostics', value: `${id};reason="${reason}";source="${policy.targetname}"` });

  if (req.method !== 'REGISTER') {
    return reply(405, 'Method Not Allowed', [{ name: 'Allow', value: 'REGISTER' }]);
  }
  let addresses: { from: string; to: string };
  try {
    addresses = registerAddresses(req);
  } catch (err) {
    if (err instanceof TetherError) return reply(400, 'Bad Request', [diag(1000, err.message.replace(/"/g, "'"))]);
    throw err;
  }
  if (!peer.authorized || peer.certDer === null) {
    return reply(401, 'Unauthorized', [{ name: 'WWW-Authenticate', value: tlsDskChallenge(policy.targetname, policy.stsUri) }]);
  }
  if (addresses.from !== addresses.to) return reply(403, 'Forbidden', [diag(1001, 'Registering another user is not allowed')]);
  const certUris = certificateSipUris(peer.certDer).map((u) => {
    try {
      return addressOfRecord(u);
    } catch {
      return '';
    }
  });
  if (!certUris.includes(addresses.to)) {
    return reply(403, 'Forbidden', [diag(1002, 'The client certificate was issued to another user')]);
  }
  const user = users.all().find((u) => u.sipUri.toLowerCase() === addresses.to);
  if (!user) return reply(403, 'Forbidden', [diag(1003, 'User is not enabled for Lync')]);
  if (users.isLocked(user)) return reply(403, 'Forbidden', [diag(1004, 'Account is locked')]);

  const asked = header(req, 'Expires');
  const expires = asked !== undefined && /^[0-9]{1,10}$/.test(asked) ? Math.min(Number(asked), policy.maxExpires) : policy.maxExpires;
  const contact = header(req, 'Contact');
  const extra = [
    ...(contact === undefined ? [] : [{ name: 'Contact', value: `${contact};expires=${expires}` }]),
    { name: 'Expires', value: String(expires) },
    { name: 'ms-keep-alive', value: 'UAS; tcp=no; hop-hop=yes; end-end=no; timeout=300' },
    { name: 'Allow-Events', value: 'vnd-microsoft-provisioning, vnd-microsoft-roaming-contacts, vnd-microsoft-provisioning-v2, presence' },
  ];
  return reply(200, 'OK', extra, { type: PROVISIONING_CONTENT_TYPE, text: buildProvisioningBody(policy.provisioning) });
}
