import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { TetherError } from '../../common/errors';

/**
 * The stand-in for a phone's key pair in `test-bootstrap`: an RSA-2048 key made in memory, a
 * PKCS#10 request signed with it (subject CN=<SIP URI>; SIPE uses CN=user@domain [S29]), and the checks a
 * phone makes on what CertProv returns. The key never touches disk and is dropped after the run.
 */

export interface ThrowawayKey {
  readonly publicKeyPem: string;
  /** PKCS#10 request (PEM) for `subject`. */
  csrFor(subject: string): string;
  /** PKCS#8 PEM for a TLS client handshake (stage 9); JS strings cannot be wiped, so call it late. */
  privateKeyPem(): string;
  /** Forget the key (the KeyObject is released; forge's copy of the numbers is cleared). */
  dispose(): void;
}

export function makeThrowawayKey(bits = 2048): ThrowawayKey {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits });
  let privateKey: KeyObject | null = pair.privateKey;
  const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const live = (): KeyObject => {
    if (privateKey === null) throw new TetherError('INTERNAL', 'The throw-away key was already disposed.', { stage: 'certificate' });
    return privateKey;
  };
  return {
    publicKeyPem,
    csrFor(subject) {
      const csr = forge.pki.createCertificationRequest();
      csr.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
      csr.setSubject([{ name: 'commonName', value: subject }]);
      // forge signs only with its own key form; the PEM is built in memory and dropped at once.
      const forgeKey = forge.pki.privateKeyFromPem(live().export({ type: 'pkcs1', format: 'pem' }).toString());
      csr.sign(forgeKey, forge.md.sha256.create());
      for (const k of ['d', 'p', 'q', 'dP', 'dQ', 'qInv'] as const) (forgeKey as unknown as Record<string, unknown>)[k] = null;
      return forge.pki.certificationRequestToPem(csr);
    },
    privateKeyPem: () => live().export({ type: 'pkcs8', format: 'pem' }).toString(),
    dispose() {
      privateKey = null;
    },
  };
}

export interface IssuedCheck {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprint256: string;
  /** Subjects from the issuer up to the root of the stage-6 chain. */
  readonly path: string[];
}

const oneLine = (dn: string) => dn.split('\n').join(', ');

/**
 * What a phone checks before it uses an issued certificate: it carries OUR public key, and it
 * chains (signature by signature) to the CA chain validated in stage 6. Failures are
 * CERTPROV_BAD_RESPONSE, the certprov area's "answer Tether cannot use".
 */
export function checkIssuedCertificate(certificatePem: string, publicKeyPem: string, chainPems: readonly string[], now: Date): IssuedCheck {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certificatePem);
  } catch (cause) {
    throw new TetherError('CERTPROV_BAD_RESPONSE', 'The issued certificate cannot be read.', { detail: { reason: 'unreadable' }, cause });
  }
  const certKey = leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (certKey !== publicKeyPem) {
    throw new TetherError('CERTPROV_BAD_RESPONSE', 'The issued certificate does not carry the key this request was made with.', {
      detail: { reason: 'key-mismatch', subject: oneLine(leaf.subject) },
    });
  }
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) {
    throw new TetherError('CERTPROV_BAD_RESPONSE', `The issued certificate is not valid now (${leaf.validFrom} – ${leaf.validTo}).`, {
      detail: { reason: 'dates', notBefore: leaf.validFrom, notAfter: leaf.validTo },
    });
  }
  const cas = chainPems.map((p) => new X509Certificate(p));
  const path: string[] = [];
  let at = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const issuer = cas.find((c) => c.subject === at.issuer && at.checkIssued(c));
    if (!issuer || !at.verify(issuer.publicKey)) {
      throw new TetherError('CERTPROV_BAD_RESPONSE', `The issued certificate does not chain to the pool's CA chain from stage 6 (no valid issuer '${oneLine(at.issuer)}').`, {
        detail: { reason: 'not-in-chain', missingIssuer: oneLine(at.issuer) },
      });
    }
    path.push(oneLine(issuer.subject));
    if (issuer.subject === issuer.issuer) {
      return {
        subject: oneLine(leaf.subject),
        issuer: oneLine(leaf.issuer),
        serial: leaf.serialNumber,
        notBefore: new Date(leaf.validFrom).toISOString(),
        notAfter: new Date(leaf.validTo).toISOString(),
        fingerprint256: leaf.fingerprint256,
        path,
      };
    }
    at = issuer;
  }
  throw new TetherError('CERTPROV_BAD_RESPONSE', 'The issued certificate\'s chain is longer than Tether follows.', { detail: { reason: 'too-deep' } });
}
