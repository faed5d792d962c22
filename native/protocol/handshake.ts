/**
 * Handshake cryptography (docs/tether-protocol.md §5): X25519 key agreement, the host's hash
 * commitment, the transcript hash, the HKDF-SHA256 key schedule, the six-digit SAS, and the
 * AES-256-GCM seal/open of frame payloads with sequence-number nonces. Node's crypto only.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { TetherError } from '../../common/errors';
import { FRAME_AAD_SIZE, FRAME_HEADER_SIZE, sealCrc, writeHeader, type FrameHeaderFields } from './frame';

export const TAG_SIZE = 16;
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export interface EphemeralKey {
  readonly privateKey: KeyObject;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** 32 random bytes mixed into the transcript. */
  readonly nonce: Uint8Array;
}

export function makeEphemeralKey(): EphemeralKey {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(spki.subarray(SPKI_X25519_PREFIX.length)), nonce: new Uint8Array(randomBytes(32)) };
}

/** SHA-256("tether v1 commit" ‖ publicKey ‖ nonce): binds the host to its key before it sees the phone's. */
export function commitment(publicKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update('tether v1 commit').update(publicKey).update(nonce).digest());
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** SHA-256 over the three handshake payloads exactly as sent, each length-prefixed. */
export function transcriptHash(hello: Uint8Array, welcome: Uint8Array, key: Uint8Array): Uint8Array {
  const h = createHash('sha256').update('tether v1 transcript');
  for (const part of [hello, welcome, key]) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(part.length);
    h.update(len).update(part);
  }
  return new Uint8Array(h.digest());
}

export interface DirectionKeys {
  readonly key: Buffer;
  readonly iv: Buffer;
}

export interface SessionKeys {
  readonly hostToPhone: DirectionKeys;
  readonly phoneToHost: DirectionKeys;
  readonly sas: string;
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

/** X25519 then the key schedule of §5.3. Throws PROTOCOL_HANDSHAKE_FAILED on a bad peer key. */
export function deriveSessionKeys(own: EphemeralKey, peerPublicKey: Uint8Array, transcript: Uint8Array): SessionKeys {
  let shared: Buffer;
  try {
    const peer = createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, peerPublicKey]), format: 'der', type: 'spki' });
    shared = diffieHellman({ privateKey: own.privateKey, publicKey: peer });
  } catch (cause) {
    throw new TetherError('PROTOCOL_HANDSHAKE_FAILED', 'The peer’s X25519 public key is invalid.', { cause });
  }
  // A low-order peer key gives an all-zero secret that an attacker would know too.
  if (shared.every((b) => b === 0)) throw new TetherError('PROTOCOL_HANDSHAKE_FAILED', 'The peer’s X25519 public key is of low order.');
  try {
    const sasBytes = hkdf(shared, transcript, 'tether v1 sas', 8);
    const sas = (sasBytes.readBigUInt64BE(0) % 1_000_000n).toString().padStart(6, '0');
    return {
      hostToPhone: { key: hkdf(shared, transcript, 'tether v1 key host->phone', 32), iv: hkdf(shared, transcript, 'tether v1 iv host->phone', 4) },
      phoneToHost: { key: hkdf(shared, transcript, 'tether v1 key phone->host', 32), iv: hkdf(shared, transcript, 'tether v1 iv phone->host', 4) },
      sas,
    };
  } finally {
    shared.fill(0);
  }
}

/** Makes an X25519 private key usable again from its raw form (tests). */
export function privateKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]), format: 'der', type: 'pkcs8' });
}

function nonceFor(iv: Buffer, seq: number): Buffer {
  const n = Buffer.alloc(12);
  iv.copy(n, 0);
  n.writeUInt32LE(seq >>> 0, 4); // u64 LE: the high half stays 0 because seq is a u32
  return n;
}

/**
 * Node's cipher.update returns a new buffer (it cannot write into ours), so each piece of
 * ciphertext is copied into the frame once. Feeding it slices of this size keeps that temporary
 * output in the CPU cache while it is copied, instead of writing and re-reading a second
 * megabyte through memory: a few per cent less CPU per 1 MiB seal (docs/tether-protocol.md §12).
 */
const SEAL_SLICE = 64 * 1024;

/**
 * Builds a complete sealed frame: header, AES-256-GCM(plaintext parts) ‖ tag, CRC. The parts are
 * encrypted slice by slice into the frame buffer.
 */
export function sealFrame(keys: DirectionKeys, header: Omit<FrameHeaderFields, 'length'>, parts: readonly Uint8Array[]): Uint8Array {
  let plainLength = 0;
  for (const p of parts) plainLength += p.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + plainLength + TAG_SIZE);
  writeHeader(frame, { ...header, length: plainLength + TAG_SIZE });
  const cipher = createCipheriv('aes-256-gcm', keys.key, nonceFor(keys.iv, header.seq));
  cipher.setAAD(frame.subarray(0, FRAME_AAD_SIZE));
  let off = FRAME_HEADER_SIZE;
  for (const p of parts) {
    for (let at = 0; at < p.length; at += SEAL_SLICE) {
      const out = cipher.update(p.subarray(at, Math.min(p.length, at + SEAL_SLICE)));
      out.copy(frame, off);
      off += out.length;
    }
  }
  const fin = cipher.final();
  fin.copy(frame, off);
  off += fin.length;
  cipher.getAuthTag().copy(frame, off);
  sealCrc(frame);
  return frame;
}

/** Opens a sealed frame's payload; throws PROTOCOL_DECRYPT_FAILED if anything was altered. */
export function openFrame(keys: DirectionKeys, raw: Uint8Array, seq: number): Uint8Array {
  const payload = raw.subarray(FRAME_HEADER_SIZE);
  if (payload.length < TAG_SIZE) throw new TetherError('PROTOCOL_DECRYPT_FAILED', undefined, { detail: { reason: 'shorter than the tag' } });
  const cut = payload.length - TAG_SIZE;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys.key, nonceFor(keys.iv, seq));
    decipher.setAAD(raw.subarray(0, FRAME_AAD_SIZE));
    decipher.setAuthTag(payload.subarray(cut));
    const plain = cut === 0 ? Buffer.alloc(0) : decipher.update(payload.subarray(0, cut));
    decipher.final();
    return plain;
  } catch (cause) {
    throw new TetherError('PROTOCOL_DECRYPT_FAILED', undefined, { cause });
  }
}
