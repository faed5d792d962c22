import type { LookupFunction } from 'node:net';
import { TetherError } from '../../../common/errors';
import { decodePemCertificates } from '../../../common/pool/chain/pkcs7';
import { chainPems, checkServerChain, validateChain, verifyServerWithChain } from '../chain';
import type { InternalSignInFacts } from './facts';
import { requireExternalTls } from './tls-only';

/**
 * Stage 6 outside the corporate network. The anonymous chain download is internal only, so the
 * phone relies on the chain it installed at its internal sign-in: the saved chain is checked
 * again (structure, dates, the saved root fingerprint), then the external Web Services' TLS
 * certificate must verify against it alone (host name included) and chain to that root. What the
 * handshake presents beyond the saved chain (a renewed intermediate) is picked up, as inside.
 */

export interface ExternalChain {
  readonly rootSubject: string;
  readonly rootFingerprint: string;
  readonly trust: 'internal-sign-in';
  readonly intermediates: string[];
  readonly inferredFromTls: number;
  /** `host:port` of the external Web Services whose certificate was verified. */
  readonly server: string;
  /** Intermediates deepest first, root last. */
  readonly pems: string[];
}

export interface ExternalChainInput {
  readonly facts: InternalSignInFacts;
  readonly lookup?: LookupFunction;
  readonly now: () => Date;
  readonly timeoutMs?: number;
}

export async function verifyExternalChain(input: ExternalChainInput): Promise<ExternalChain> {
  const { facts } = input;
  const web = requireExternalTls(facts.webServices.externalUrl, 'Web Services', 'ca-chain');
  const validated = validateChain(facts.chain.pems.flatMap((p) => decodePemCertificates(p)), input.now());
  if (validated.root.fingerprint256 !== facts.chain.rootFingerprint) {
    throw new TetherError('EXTERNAL_FACTS_INVALID', 'The saved chain\'s root is not the one the internal sign-in trusted.', { stage: 'ca-chain' });
  }
  const host = web.hostname.replace(/^\[|\]$/g, '');
  const port = Number(web.port || 443);
  const changed = (err: unknown): TetherError =>
    new TetherError('EXTERNAL_CHAIN_CHANGED', `${host}:${port} presents a certificate that does not chain to the saved root ${facts.chain.rootFingerprint}: ${(err as Error).message}`, {
      detail: { server: `${host}:${port}`, rootFingerprint: facts.chain.rootFingerprint },
      cause: err,
    });
  let presented: Buffer[];
  try {
    presented = await verifyServerWithChain(
      { host, port },
      { caPems: facts.chain.pems, ...(input.lookup ? { lookup: input.lookup } : {}), ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }) },
    );
  } catch (err) {
    if (TetherError.is(err, 'CHAIN_INTERMEDIATE_MISSING') || TetherError.is(err, 'CHAIN_SERVER_MISMATCH')) throw changed(err);
    throw err;
  }
  const check = checkServerChain(validated, presented, input.now());
  const intermediates = [...check.inferred, ...validated.intermediates];
  return {
    rootSubject: validated.root.subject,
    rootFingerprint: validated.root.fingerprint256,
    trust: 'internal-sign-in',
    intermediates: intermediates.map((c) => c.subject),
    inferredFromTls: check.inferred.length,
    server: `${host}:${port}`,
    pems: chainPems({ root: validated.root, intermediates }),
  };
}
