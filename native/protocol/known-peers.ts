/**
 * Long-term pairing keys (docs/tether-protocol.md §5.7 "Known hosts"): each side of a session that
 * announces `known-host` holds an Ed25519 key pair that outlives sessions. At the first pairing
 * confirmed by the code, the host remembers the phone's public key under its serial and the phone
 * remembers the host's; on later sessions both sign this session's transcript hash, so a re-attach
 * pairs without a code but still with fresh X25519 session keys. Node's crypto only.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export const ED25519_PUBLIC_KEY_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The host's side: this PC's key and the phones it has paired with. */
export interface HostPairingKeys {
  /** This PC's long-term Ed25519 public key (32 raw bytes). */
  readonly publicKey: Uint8Array;
  /** Signs with the long-term private key (the key itself need not leave its store). */
  sign(message: Uint8Array): Uint8Array;
  /** The phone's long-term public key remembered for this serial, or null. */
  phoneKey(serial: string): Uint8Array | null;
  /** A code pairing with this phone was confirmed: remember its key (replacing an older one). */
  remember(serial: string, phoneKey: Uint8Array): Promise<void>;
}

/** The phone's side: its own key and the hosts it has paired with. */
export interface PhonePairingKeys {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
  /** True when this host key was remembered at an earlier confirmed pairing (and not dropped since). */
  knows(hostKey: Uint8Array): boolean;
  /** A code pairing with this host was confirmed: remember it (the phone bounds how many it keeps). */
  remember(hostKey: Uint8Array): void;
  /** The host proved its key: a use, for the phone's least-recently-used eviction. */
  used?(hostKey: Uint8Array): void;
}

export interface Ed25519KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
}

export function ed25519KeyPair(): Ed25519KeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: rawEd25519PublicKey(privateKey) };
}

/** The raw 32-byte public key of an Ed25519 private (or public) key. */
export function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length));
}

/** Reads a PKCS#8 PEM Ed25519 private key; throws on anything else. */
export function ed25519FromPem(pem: string): Ed25519KeyPair {
  const privateKey = createPrivateKey({ key: pem, format: 'pem' });
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 key (${String(privateKey.asymmetricKeyType)})`);
  return { privateKey, publicKey: rawEd25519PublicKey(privateKey) };
}

export function signEd25519(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKey));
}

/** False for a bad signature, and for a key that is not a valid Ed25519 point (never throws). */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE || signature.length !== ED25519_SIGNATURE_SIZE) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/**
 * What each side signs: a role label, then this session's transcript hash T (§5.3). T covers both
 * ephemeral keys and nonces, so a proof is good for one session only (a replay fails), and the
 * labels differ, so a host's proof can never pass for a phone's.
 */
export function proofMessage(role: 'host' | 'phone', transcript: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(`tether v1 ${role} proof`), transcript]);
}

/** An in-memory host identity (tests, a run without a data folder): a fresh key per process. */
export function memoryHostPairing(keys: Ed25519KeyPair = ed25519KeyPair()): HostPairingKeys & { forget(serial: string): void } {
  const phones = new Map<string, Uint8Array>();
  return {
    publicKey: keys.publicKey,
    sign: (message) => signEd25519(keys.privateKey, message),
    phoneKey: (serial) => phones.get(serial) ?? null,
    remember: async (serial, phoneKey) => void phones.set(serial, phoneKey.slice()),
    forget: (serial) => void phones.delete(serial),
  };
}

/** An in-memory phone side (tests): remembers every host, without a bound. */
export function memoryPhonePairing(keys: Ed25519KeyPair = ed25519KeyPair()): PhonePairingKeys & { forgetAll(): void; readonly hosts: number } {
  const hosts = new Set<string>();
  const id = (k: Uint8Array): string => Buffer.from(k).toString('hex');
  return {
    publicKey: keys.publicKey,
    sign: (message) => signEd25519(keys.privateKey, message),
    knows: (hostKey) => hosts.has(id(hostKey)),
    remember: (hostKey) => void hosts.add(id(hostKey)),
    forgetAll: () => hosts.clear(),
    get hosts() {
      return hosts.size;
    },
  };
}
