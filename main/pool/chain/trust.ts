import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { TetherError } from '../../../common/errors';
import type { ChainCertificate } from './validate';

/**
 * The trust decision for a chain that came over plain HTTP: its root must be one the OS already
 * trusts (Node's bundled store, `tls.rootCertificates`) or match a pinned SHA-256 fingerprint
 * (settings, a kiosk bundle, or an earlier first-use confirmation). Otherwise the caller gets a
 * typed error carrying the fingerprint, so a person can compare it with the admin's and decide.
 */

export interface TrustAnchors {
  /** PEM roots the OS trusts; default Node's `tls.rootCertificates` (tests inject their own). */
  readonly osRoots?: readonly string[];
  /** Pinned root fingerprints (SHA-256 hex, any case, colons optional). */
  readonly pinnedFingerprints?: readonly string[];
}

export type TrustSource = 'os-store' | 'pinned';

/** Upper-case hex with colons; throws BAD_INPUT on something that is not a SHA-256 fingerprint. */
export function normaliseFingerprint(value: string): string {
  const hex = value.replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new TetherError('BAD_INPUT', `Not a SHA-256 fingerprint: '${value.slice(0, 100)}'.`);
  return hex.match(/../g)!.join(':');
}

let defaultOsFingerprints: Set<string> | undefined;

function fingerprintsOf(pems: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const pem of pems) {
    try {
      out.add(new X509Certificate(pem).fingerprint256);
    } catch {
      // A store entry we cannot read simply trusts nothing.
    }
  }
  return out;
}

/** Where trust in `root` comes from, or CHAIN_ROOT_UNTRUSTED with its fingerprint in `detail`. */
export function decideTrust(root: ChainCertificate, anchors: TrustAnchors = {}): TrustSource {
  const pins = new Set((anchors.pinnedFingerprints ?? []).map(normaliseFingerprint));
  if (pins.has(root.fingerprint256)) return 'pinned';
  const os = anchors.osRoots === undefined ? (defaultOsFingerprints ??= fingerprintsOf(rootCertificates)) : fingerprintsOf(anchors.osRoots);
  if (os.has(root.fingerprint256)) return 'os-store';
  throw new TetherError('CHAIN_ROOT_UNTRUSTED', `The pool's root CA '${root.subject}' is not trusted by this PC; its SHA-256 fingerprint is ${root.fingerprint256}.`, {
    detail: {
      fingerprint: root.fingerprint256,
      subject: root.subject,
      notAfter: root.notAfter.toISOString(),
      pinsChecked: pins.size,
    },
  });
}
