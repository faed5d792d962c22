import { toTetherError } from '../../common/errors';
import type { SignInSpec } from '../../common/service/contract';
import { internalSignInFacts, type InternalSignInFacts } from '../pool/external';
import type { JobFacts, SignInPolicy } from './stages/types';

/**
 * What a job that signed a phone in INSIDE leaves for sign-in from outside (docs/pool/external.md):
 * the `tether-internal-sign-in/1` facts, from the job's own stage facts and the in-band addresses
 * the phone reported when it registered. The service stores them with `journal.markSignedIn`.
 */

/** Stored instead when the facts cannot be made (the external path then says to sign in inside again). */
export type NoInternalFacts = { readonly format: 'none'; readonly reason: string };

export function internalFactsOfJob(spec: SignInSpec, policy: SignInPolicy, facts: JobFacts, signedInAt: Date): InternalSignInFacts | NoInternalFacts {
  const inBand = facts.logon?.provisioning ?? null;
  const chain = facts['ca-chain'];
  const sipUri = facts.logon?.sipUri ?? facts.auth?.sipUri ?? null;
  if (inBand === null) return { format: 'none', reason: 'the phone reported no in-band provisioning addresses when it signed in' };
  if (!chain || sipUri === null) return { format: 'none', reason: 'the job has no CA chain or SIP address on record' };
  const domain = (policy.domain ?? facts.ip?.domain ?? sipUri.replace(/^.*@/, '')).replace(/\.$/, '');
  try {
    return internalSignInFacts({
      domain,
      sipUri,
      authMethod: spec.kind,
      deviceUpdateExternalUrl: inBand.deviceUpdateExternalUrl,
      chainPems: chain.pems,
      certificatePem: facts.certificate?.certificatePem ?? null,
      signedInAt,
    });
  } catch (err) {
    // An http:// external address, an unreadable certificate: no usable facts, said why (no secret in it).
    const e = toTetherError(err);
    return { format: 'none', reason: `${e.code}: ${e.message}` };
  }
}

/** The stored facts as the external path's gate takes them: a `none` marker is no facts at all. */
export function storedInternalFacts(stored: unknown): unknown {
  return typeof stored === 'object' && stored !== null && (stored as { format?: unknown }).format === 'none' ? null : stored;
}
