import { X509Certificate } from 'node:crypto';
import { TetherError } from '../../../common/errors';
import { fqdnProblem } from '../../../common/pool/dhcp-options';
import type { StageId } from '../../../common/stages';
import { CERTPROV_PATH } from '../discovery/discover';
import { requireExternalTls } from './tls-only';

/**
 * "Internal sign-in facts": what a phone's sign-in inside the corporate network leaves behind that
 * a sign-in from outside needs (docs/pool/external.md). Plain JSON with no secret: the engine keeps
 * it in the journal's devices table (`markSignedIn({ serial, network: 'internal', facts })`).
 * Certificates are public; the private key stays on the phone (or, in a test run, in memory).
 */

export const FACTS_FORMAT = 'tether-internal-sign-in/1';

/** A type alias (not an interface) so it is assignable to the journal's JsonObject. */
export type InternalSignInFacts = {
  readonly format: typeof FACTS_FORMAT;
  /** When the internal sign-in registered (ISO 8601). */
  readonly signedInAt: string;
  /** The user's SIP domain and address. */
  readonly domain: string;
  readonly sipUri: string;
  readonly authMethod: 'pin' | 'ntlm';
  /** `updatesserverexternalurl` from in-band provisioning: https://<ext>/RequestHandlerExt/ucdevice.upx [S24][S25]. */
  readonly deviceUpdateExternalUrl: string;
  /** The pool's external Web Services: its FQDN and the CertProv URL on it (the WebTicket URL comes from its mex). */
  readonly webServices: { readonly externalFqdn: string; readonly externalUrl: string };
  /** The pool's CA chain the phone installed (stage 6): root fingerprint, every certificate's, and the PEMs (root last). */
  readonly chain: { readonly rootFingerprint: string; readonly fingerprints: readonly string[]; readonly pems: readonly string[] };
  /**
   * The user's certificate issued at that sign-in (stage 8), by thumbprint (SHA-1, as Windows shows
   * it) and SHA-256 fingerprint; a PIN phone authenticates with it outside. Null when none was issued.
   */
  readonly certificate: {
    readonly thumbprint: string;
    readonly fingerprint256: string;
    readonly subject: string;
    readonly notAfter: string;
  } | null;
};

export interface FactsInput {
  readonly domain: string;
  readonly sipUri: string;
  readonly authMethod: 'pin' | 'ntlm';
  /** In-band provisioning's external Device Update URL. */
  readonly deviceUpdateExternalUrl: string;
  /**
   * The external Web Services' CertProv URL; default: the origin of the external Device Update URL
   * plus the CertProv path (both live on the pool's external Web Services site [S24]).
   */
  readonly webServicesExternalUrl?: string;
  /** The validated stage-6 chain, intermediates first and the root last. */
  readonly chainPems: readonly string[];
  /** The certificate issued in stage 8 (PEM), if any. */
  readonly certificatePem?: string | null;
  readonly signedInAt: Date;
}

const FINGERPRINT = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/;

function bad(message: string, detail: Record<string, string | number> = {}, cause?: unknown): TetherError {
  return new TetherError('EXTERNAL_FACTS_INVALID', message, { detail, ...(cause === undefined ? {} : { cause }) });
}

function readCert(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (cause) {
    throw bad(`The ${what} in the internal sign-in facts cannot be read.`, { what }, cause);
  }
}

/** The Windows-style thumbprint: SHA-1 of the DER, upper-case hex without separators. */
export function certificateThumbprint(cert: X509Certificate): string {
  return cert.fingerprint.replace(/:/g, '').toUpperCase();
}

/** Builds the facts at the end of an internal sign-in (stage 9); refuses an external address that is not https. */
export function internalSignInFacts(input: FactsInput): InternalSignInFacts {
  return buildFacts(input, 'logon');
}

function buildFacts(input: FactsInput, stage: StageId): InternalSignInFacts {
  const upx = requireExternalTls(input.deviceUpdateExternalUrl, 'Device Update', stage);
  const web = requireExternalTls(input.webServicesExternalUrl ?? `${upx.origin}${CERTPROV_PATH}`, 'Web Services', stage);
  if (input.chainPems.length === 0) throw bad('The internal sign-in facts need the pool\'s CA chain.');
  const chain = input.chainPems.map((p, i) => readCert(p, `chain certificate ${i + 1}`));
  const root = chain[chain.length - 1]!;
  const issued = input.certificatePem ? readCert(input.certificatePem, 'user certificate') : null;
  return {
    format: FACTS_FORMAT,
    signedInAt: input.signedInAt.toISOString(),
    domain: input.domain.toLowerCase(),
    sipUri: input.sipUri,
    authMethod: input.authMethod,
    deviceUpdateExternalUrl: upx.toString(),
    webServices: { externalFqdn: web.hostname.toLowerCase(), externalUrl: web.toString() },
    chain: { rootFingerprint: root.fingerprint256, fingerprints: chain.map((c) => c.fingerprint256), pems: chain.map((c) => c.toString()) },
    certificate: issued
      ? {
          thumbprint: certificateThumbprint(issued),
          fingerprint256: issued.fingerprint256,
          subject: issued.subject.split('\n').join(', '),
          notAfter: new Date(issued.validTo).toISOString(),
        }
      : null,
  };
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`The internal sign-in facts have no ${what}.`, { field: what });
  return v as Record<string, unknown>;
}

function text(v: unknown, what: string, max = 2048): string {
  if (typeof v !== 'string' || v === '' || v.length > max) throw bad(`The internal sign-in facts have no usable ${what}.`, { field: what });
  return v;
}

/**
 * Checks facts read back from the journal or a file (input from disk: every field, and that the
 * fingerprints are those of the PEMs). Plain-HTTP external addresses are EXTERNAL_PLAIN_HTTP_REFUSED.
 */
export function parseInternalSignInFacts(value: unknown): InternalSignInFacts {
  const o = record(value, 'object');
  if (o.format !== FACTS_FORMAT) throw bad(`The internal sign-in facts are not in the ${FACTS_FORMAT} format.`, { field: 'format' });
  const signedInAt = text(o.signedInAt, 'signedInAt', 40);
  if (Number.isNaN(Date.parse(signedInAt))) throw bad('The internal sign-in facts have no usable signedInAt.', { field: 'signedInAt' });
  const domain = text(o.domain, 'domain', 253).toLowerCase();
  if (fqdnProblem(domain)) throw bad('The internal sign-in facts have no usable domain.', { field: 'domain' });
  const sipUri = text(o.sipUri, 'sipUri', 300);
  if (o.authMethod !== 'pin' && o.authMethod !== 'ntlm') throw bad('The internal sign-in facts have no usable authMethod.', { field: 'authMethod' });
  const web = record(o.webServices, 'webServices');
  const chain = record(o.chain, 'chain');
  const pems = chain.pems;
  if (!Array.isArray(pems) || pems.length === 0 || pems.length > 8) throw bad('The internal sign-in facts have no usable chain.', { field: 'chain.pems' });
  const built = buildFacts({
    domain,
    sipUri,
    authMethod: o.authMethod,
    deviceUpdateExternalUrl: text(o.deviceUpdateExternalUrl, 'deviceUpdateExternalUrl'),
    webServicesExternalUrl: text(web.externalUrl, 'webServices.externalUrl'),
    chainPems: pems.map((p, i) => text(p, `chain.pems[${i}]`, 16_384)),
    signedInAt: new Date(signedInAt),
  }, 'find-update');
  const root = text(chain.rootFingerprint, 'chain.rootFingerprint', 95).toUpperCase();
  const fingerprints = chain.fingerprints;
  if (!FINGERPRINT.test(root) || root !== built.chain.rootFingerprint) throw bad('The saved root fingerprint is not that of the saved root certificate.', { field: 'chain.rootFingerprint' });
  if (!Array.isArray(fingerprints) || JSON.stringify(fingerprints.map((f) => String(f).toUpperCase())) !== JSON.stringify(built.chain.fingerprints)) {
    throw bad('The saved chain fingerprints are not those of the saved certificates.', { field: 'chain.fingerprints' });
  }
  if (text(web.externalFqdn, 'webServices.externalFqdn', 253).toLowerCase() !== built.webServices.externalFqdn) {
    throw bad('The saved external Web Services FQDN is not the host of its URL.', { field: 'webServices.externalFqdn' });
  }
  let certificate: InternalSignInFacts['certificate'] = null;
  if (o.certificate !== null && o.certificate !== undefined) {
    const c = record(o.certificate, 'certificate');
    const thumbprint = text(c.thumbprint, 'certificate.thumbprint', 40).toUpperCase();
    const fingerprint256 = text(c.fingerprint256, 'certificate.fingerprint256', 95).toUpperCase();
    if (!/^[0-9A-F]{40}$/.test(thumbprint) || !FINGERPRINT.test(fingerprint256)) throw bad('The saved certificate thumbprint is malformed.', { field: 'certificate' });
    const notAfter = text(c.notAfter, 'certificate.notAfter', 40);
    if (Number.isNaN(Date.parse(notAfter))) throw bad('The saved certificate has no usable notAfter.', { field: 'certificate.notAfter' });
    certificate = { thumbprint, fingerprint256, subject: text(c.subject, 'certificate.subject', 1024), notAfter };
  }
  return { ...built, chain: { ...built.chain }, certificate };
}

/**
 * The gate of every external sign-in: the facts of an internal sign-in, checked, or the typed
 * EXTERNAL_NEEDS_INTERNAL_SIGN_IN telling the user to sign in once inside the corporate network.
 */
export function requireInternalSignIn(facts: unknown, who: { readonly serial?: string } = {}): InternalSignInFacts {
  if (facts === null || facts === undefined) {
    throw new TetherError(
      'EXTERNAL_NEEDS_INTERNAL_SIGN_IN',
      `${who.serial ? `Phone ${who.serial}` : 'This phone'} has no internal sign-in on record; sign it in once inside the corporate network first.`,
      { detail: who.serial ? { serial: who.serial } : {} },
    );
  }
  return parseInternalSignInFacts(facts);
}

/** Is the user certificate given the one the internal sign-in issued (same thumbprint)? */
export function isFactsCertificate(facts: InternalSignInFacts, certPem: string): boolean {
  return facts.certificate !== null && certificateThumbprint(readCert(certPem, 'user certificate')) === facts.certificate.thumbprint;
}
