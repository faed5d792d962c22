import { X509Certificate } from 'node:crypto';
import { TetherError } from '../../../common/errors';
import { derToPem } from '../../../common/pool/chain/pkcs7';
import { readCaConstraints } from './ca-constraints';

/**
 * Pure checks of a downloaded CA chain (stage 6): one self-signed root, every other certificate
 * signed by a CA in the set, every CA marked as one (basic constraints) and allowed to sign
 * certificates (key usage, where present), no CA with more CAs below it than its path length
 * allows, every date current; and, when the pool's TLS certificates are at hand, that they chain to it. Node's X509Certificate does
 * the cryptography, so RSA and EC CAs both work. Trust (OS store or pin) is decided in trust.ts.
 */

export interface ChainCertificate {
  readonly pem: string;
  readonly der: Buffer;
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 of the DER, upper-case hex with colons (as an admin sees it in certutil/openssl). */
  readonly fingerprint256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint: most CA certificates allowed below this one (undefined = no limit). */
  readonly pathLen: number | undefined;
  /** keyUsage keyCertSign (undefined = the certificate has no keyUsage extension). */
  readonly keyCertSign: boolean | undefined;
  readonly x509: X509Certificate;
}

export interface ValidatedChain {
  readonly root: ChainCertificate;
  /** Every certificate but the root, each followed by its issuer where it has one here (deepest first). */
  readonly intermediates: readonly ChainCertificate[];
}

/** Longest issuer path we follow (a real PKI has 2–4 levels). */
const MAX_DEPTH = 8;

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}

export function describeCertificate(der: Uint8Array): ChainCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (cause) {
    throw new TetherError('CHAIN_MALFORMED', 'A certificate in the chain cannot be read.', { detail: { reason: 'bad-certificate' }, cause });
  }
  const notBefore = new Date(x509.validFrom);
  const notAfter = new Date(x509.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw new TetherError('CHAIN_MALFORMED', 'A certificate in the chain has unreadable validity dates.', { detail: { reason: 'bad-dates' } });
  }
  const raw = Buffer.from(x509.raw);
  const subject = oneLine(x509.subject);
  const limits = readCaConstraints(raw, subject);
  return {
    pem: derToPem(raw),
    der: raw,
    subject,
    issuer: oneLine(x509.issuer),
    fingerprint256: x509.fingerprint256,
    notBefore,
    notAfter,
    // basicConstraints decides; without it, OpenSSL's own view (a v1 self-signed root is a CA).
    isCa: limits.cA ?? x509.ca,
    pathLen: limits.pathLen,
    keyCertSign: limits.keyCertSign,
    x509,
  };
}

function isSelfIssued(c: ChainCertificate): boolean {
  return c.x509.subject === c.x509.issuer;
}

function checkDates(c: ChainCertificate, now: Date, role: string): void {
  if (now < c.notBefore || now > c.notAfter) {
    const expired = now > c.notAfter;
    throw new TetherError(
      'CHAIN_CERT_EXPIRED',
      `The ${role} '${c.subject}' ${expired ? `expired on ${c.notAfter.toISOString()}` : `is not valid before ${c.notBefore.toISOString()}`}.`,
      { detail: { subject: c.subject, role, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), now: now.toISOString() } },
    );
  }
}

/** Whether `child` carries a valid signature by `issuer`'s key; an unusable key is CHAIN_MALFORMED. */
function signedBy(child: ChainCertificate, issuer: ChainCertificate): boolean {
  let key;
  try {
    key = issuer.x509.publicKey;
  } catch (cause) {
    throw new TetherError('CHAIN_MALFORMED', `The public key of '${issuer.subject}' cannot be read.`, { detail: { reason: 'bad-public-key', subject: issuer.subject }, cause });
  }
  try {
    return child.x509.verify(key);
  } catch {
    // OpenSSL refuses some damaged signatures outright; that is a failed signature too.
    return false;
  }
}

/** A CA of the chain must be one by basic constraints and, where it has key usage, may sign certificates. */
function checkIsCa(c: ChainCertificate, what: string): void {
  if (!c.isCa) throw new TetherError('CHAIN_NOT_CA', `${what} '${c.subject}' is not marked as a CA (basic constraints).`, { detail: { subject: c.subject } });
  if (c.keyCertSign === false) {
    throw new TetherError('CHAIN_CA_KEY_USAGE', `${what} '${c.subject}' has a key usage that does not allow signing certificates (keyCertSign).`, {
      detail: { subject: c.subject },
    });
  }
}

function checkSignedBy(child: ChainCertificate, issuer: ChainCertificate, role: string): void {
  if (!issuer.isCa) {
    throw new TetherError('CHAIN_NOT_CA', `'${issuer.subject}' signs '${child.subject}' but is not a CA (basic constraints).`, {
      detail: { subject: issuer.subject, signs: child.subject },
    });
  }
  if (issuer.keyCertSign === false) {
    throw new TetherError('CHAIN_CA_KEY_USAGE', `'${issuer.subject}' signs '${child.subject}' but its key usage does not allow signing certificates (keyCertSign).`, {
      detail: { subject: issuer.subject, signs: child.subject },
    });
  }
  if (!signedBy(child, issuer)) {
    throw new TetherError('CHAIN_BAD_SIGNATURE', `The ${role} '${child.subject}' was not signed by '${issuer.subject}'.`, {
      detail: { subject: child.subject, issuer: issuer.subject },
    });
  }
}

/**
 * RFC 5280 §4.2.1.9: a CA's pathLenConstraint caps the CA certificates below it in the path
 * (the end-entity certificate does not count). `below` is that count for this path.
 */
function checkPathLength(issuer: ChainCertificate, below: number, bottom: ChainCertificate): void {
  if (issuer.pathLen !== undefined && below > issuer.pathLen) {
    throw new TetherError(
      'CHAIN_PATH_LENGTH',
      `The CA '${issuer.subject}' allows ${issuer.pathLen} CA certificate(s) below it (path length), but the chain to '${bottom.subject}' has ${below}.`,
      { detail: { subject: issuer.subject, pathLen: issuer.pathLen, below, bottom: bottom.subject } },
    );
  }
}

/** Orders and checks the certificates of a downloaded chain; every failure is a typed CHAIN_* error. */
export function validateChain(ders: readonly Uint8Array[], now: Date): ValidatedChain {
  const seen = new Set<string>();
  const certs: ChainCertificate[] = [];
  for (const der of ders) {
    const c = describeCertificate(der);
    if (!seen.has(c.fingerprint256)) certs.push(c);
    seen.add(c.fingerprint256);
  }
  if (certs.length === 0) throw new TetherError('CHAIN_MALFORMED', 'The chain holds no certificate.', { detail: { reason: 'empty' } });

  const roots = certs.filter(isSelfIssued);
  for (const r of roots) {
    if (!signedBy(r, r)) {
      throw new TetherError('CHAIN_BAD_SIGNATURE', `The root '${r.subject}' does not carry a valid self-signature.`, { detail: { subject: r.subject } });
    }
  }
  if (roots.length === 0) {
    throw new TetherError('CHAIN_ROOT_MISSING', `The chain has no self-signed root (its top certificate '${certs[0]!.subject}' names issuer '${certs[0]!.issuer}').`, {
      detail: { subjects: certs.map((c) => c.subject).join(' | ').slice(0, 500) },
    });
  }
  if (roots.length > 1) {
    // A real pool publishes one issuing hierarchy; several roots would leave "the" root to guess.
    throw new TetherError('CHAIN_MALFORMED', `The chain holds ${roots.length} root certificates; Tether expects one.`, {
      detail: { reason: 'several-roots', roots: roots.map((r) => r.subject).join(' | ').slice(0, 500) },
    });
  }
  const root = roots[0]!;
  checkIsCa(root, 'The root');
  checkDates(root, now, 'root CA');

  const others = certs.filter((c) => c !== root);
  for (const c of others) {
    // Walk up to the root: every step must find its issuer in the set and be signed by it.
    let at = c;
    for (let depth = 0; at !== root; depth++) {
      if (depth >= MAX_DEPTH) throw new TetherError('CHAIN_MALFORMED', 'The chain is longer than Tether follows (a loop?).', { detail: { reason: 'too-deep' } });
      const issuer = certs.find((x) => x !== at && x.x509.subject === at.x509.issuer);
      if (!issuer) {
        throw new TetherError('CHAIN_INTERMEDIATE_MISSING', `The chain lacks the CA '${at.issuer}' that issued '${at.subject}'.`, {
          detail: { subject: at.subject, missingIssuer: at.issuer, where: 'download' },
        });
      }
      checkSignedBy(at, issuer, 'intermediate CA');
      // `c` and everything between it and `issuer` are CAs below `issuer`.
      checkPathLength(issuer, depth + 1, c);
      at = issuer;
    }
    checkIsCa(c, 'The intermediate');
    checkDates(c, now, 'intermediate CA');
  }
  // Deepest first, so each certificate is followed by its issuer (the order TLS and openssl use).
  const depthOf = (c: ChainCertificate): number => {
    let d = 0;
    for (let at = c; at !== root; d++) at = certs.find((x) => x !== at && x.x509.subject === at.x509.issuer)!;
    return d;
  };
  const intermediates = [...others].sort((a, b) => depthOf(b) - depthOf(a));
  return { root, intermediates };
}

/**
 * Path lengths from `anchor` (a CA of the validated chain with `below` CAs under it on the way
 * from `leaf`) up to the root: inferred intermediates count against the downloaded CAs' limits.
 */
function checkPathLengthsToRoot(chain: ValidatedChain, anchor: ChainCertificate, below: number, leaf: ChainCertificate): void {
  const known = [chain.root, ...chain.intermediates];
  let at = anchor;
  for (let n = below; ; n++) {
    checkPathLength(at, n, leaf);
    if (at === chain.root) return;
    const issuer = known.find((k) => k !== at && k.x509.subject === at.x509.issuer);
    // validateChain linked every intermediate to the root; a gap means a hand-made ValidatedChain.
    if (!issuer) return;
    at = issuer;
  }
}

export interface ServerChainCheck {
  /** Intermediates the server presented that the download lacked, checked up to the root. */
  readonly inferred: readonly ChainCertificate[];
}

/**
 * Checks that the pool's TLS certificates (leaf first, then what the server sent) chain to the
 * validated chain. Intermediates the server sends that the download lacks are accepted when they
 * chain to the root (what the pool's `InferCertChainFromSSL` switch stands for [S30]), so the
 * phone still gets the whole chain. No issuer anywhere → CHAIN_INTERMEDIATE_MISSING [S36].
 */
export function checkServerChain(chain: ValidatedChain, serverDers: readonly Uint8Array[], now: Date): ServerChainCheck {
  if (serverDers.length === 0) throw new TetherError('CHAIN_SERVER_MISMATCH', 'The pool presented no TLS certificate.', { detail: { reason: 'no-certificate' } });
  const known = [chain.root, ...chain.intermediates];
  const sent = serverDers.map(describeCertificate);
  const leaf = sent[0]!;
  if (now < leaf.notBefore || now > leaf.notAfter) {
    throw new TetherError('CHAIN_SERVER_MISMATCH', `The pool's TLS certificate '${leaf.subject}' is outside its validity dates.`, {
      detail: { reason: 'expired', subject: leaf.subject, notAfter: leaf.notAfter.toISOString() },
    });
  }
  const inferred: ChainCertificate[] = [];
  let at = leaf;
  for (let depth = 0; ; depth++) {
    if (depth >= MAX_DEPTH) throw new TetherError('CHAIN_MALFORMED', 'The pool certificate chain is longer than Tether follows.', { detail: { reason: 'too-deep' } });
    const anchor = known.find((k) => k.x509.subject === at.x509.issuer);
    if (anchor) {
      checkSignedBy(at, anchor, depth === 0 ? 'pool TLS certificate' : 'intermediate CA');
      checkPathLengthsToRoot(chain, anchor, depth, leaf);
      return { inferred };
    }
    const next = sent.find((s) => s !== at && s.x509.subject === at.x509.issuer && !isSelfIssued(s));
    if (!next) {
      throw new TetherError('CHAIN_INTERMEDIATE_MISSING', `The CA '${at.issuer}' that issued '${at.subject}' is neither in the downloaded chain nor sent by the pool.`, {
        detail: { subject: at.subject, missingIssuer: at.issuer, where: 'server' },
      });
    }
    checkSignedBy(at, next, depth === 0 ? 'pool TLS certificate' : 'intermediate CA');
    checkPathLength(next, depth, leaf);
    checkDates(next, now, 'intermediate CA');
    inferred.push(next);
    at = next;
  }
}
