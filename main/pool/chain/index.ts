import type { LookupFunction } from 'node:net';
import { downloadChainDocument, type DownloadOptions } from './download';
import { verifyServerWithChain, type TlsEndpoint } from './server-check';
import { decideTrust, type TrustAnchors, type TrustSource } from './trust';
import { checkServerChain, validateChain, type ChainCertificate } from './validate';

/**
 * Stage 6 as one call: download the pool's CA chain, check its structure and dates, check that
 * the pool's TLS certificate chains to it, and decide whether to trust its root. The result is
 * always the WHOLE chain (root and intermediates), which is what the phone needs pushed to it —
 * a missing intermediate is the known USB-tethering failure [S36].
 */

export interface PoolChain {
  readonly root: ChainCertificate;
  /** Intermediates, deepest first (each followed by its issuer), including any inferred from TLS. */
  readonly intermediates: readonly ChainCertificate[];
  readonly trust: TrustSource;
  /** SHA-256 of the root, as a pin or a first-use prompt shows it. */
  readonly rootFingerprint: string;
  /** Intermediates the download lacked but the pool's TLS handshake supplied. */
  readonly inferredFromTls: number;
  /** Whether the pool's TLS certificate was checked against the chain. */
  readonly serverVerified: boolean;
  readonly sourceUrl: string;
}

/** PEMs of the whole chain, deepest intermediate first and the root last. */
export function chainPems(chain: Pick<PoolChain, 'root' | 'intermediates'>): string[] {
  return [...chain.intermediates.map((c) => c.pem), chain.root.pem];
}

export interface ObtainChainOptions extends DownloadOptions, TrustAnchors {
  /** The pool's TLS endpoint to check against the chain (e.g. Web Services on 443); omit to skip. */
  readonly tlsServer?: TlsEndpoint;
  readonly lookup?: LookupFunction;
  readonly now?: () => Date;
  readonly tlsTimeoutMs?: number;
}

export async function obtainPoolChain(options: ObtainChainOptions): Promise<PoolChain> {
  const now = options.now ?? (() => new Date());
  const doc = await downloadChainDocument(options);
  const validated = validateChain(doc.certificates, now());
  let intermediates = validated.intermediates;
  let inferred = 0;
  if (options.tlsServer) {
    const presented = await verifyServerWithChain(options.tlsServer, {
      caPems: chainPems(validated),
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(options.tlsTimeoutMs === undefined ? {} : { timeoutMs: options.tlsTimeoutMs }),
    });
    const check = checkServerChain(validated, presented, now());
    inferred = check.inferred.length;
    intermediates = [...check.inferred, ...intermediates];
  }
  // Trust last: the first-use prompt then shows a fingerprint already known to match the pool.
  const trust = decideTrust(validated.root, options);
  return {
    root: validated.root,
    intermediates,
    trust,
    rootFingerprint: validated.root.fingerprint256,
    inferredFromTls: inferred,
    serverVerified: options.tlsServer !== undefined,
    sourceUrl: doc.url,
  };
}

export { downloadChainDocument, parseChainDocument } from './download';
export type { ChainDocument, DownloadOptions } from './download';
export { serverCheckError, verifyServerWithChain } from './server-check';
export type { ServerCheckOptions, TlsEndpoint } from './server-check';
export { decideTrust, normaliseFingerprint } from './trust';
export type { TrustAnchors, TrustSource } from './trust';
export { checkServerChain, describeCertificate, validateChain } from './validate';
export type { ChainCertificate, ServerChainCheck, ValidatedChain } from './validate';
