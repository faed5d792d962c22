import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FrameType, decodeFrame } from '../../../native/protocol/frame';
import { commitment, deriveSessionKeys, openFrame, privateKeyFromRaw, sealFrame, transcriptHash } from '../../../native/protocol/handshake';

// The test vectors of docs/tether-protocol.md §5.6. X25519 keys are RFC 7748 §6.1's; the HKDF and
// transcript values were checked with `openssl kdf … HKDF` and sha256sum, independently of this code.
const h = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const host = {
  privateKey: privateKeyFromRaw(h('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')),
  publicKey: h('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'),
  nonce: new Uint8Array(32).fill(0xaa),
};
const phone = {
  privateKey: privateKeyFromRaw(h('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')),
  publicKey: h('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'),
  nonce: new Uint8Array(32).fill(0xbb),
};
const text = (s: string) => new TextEncoder().encode(s);

describe('spec test vectors (§5.6)', () => {
  const T = transcriptHash(text('HELLO'), text('WELCOME'), text('KEY'));
  const hostKeys = deriveSessionKeys(host, phone.publicKey, T);
  const phoneKeys = deriveSessionKeys(phone, host.publicKey, T);

  it('commitment, transcript, keys, IVs and SAS', () => {
    expect(hex(commitment(host.publicKey, host.nonce))).toBe('979989bbce4ca7970b70003edd30bb70001511018841f39b347afe3320078707');
    expect(hex(T)).toBe('e462993a86a79691ed753b245561635922ef19be6e0a7427f4ef382e5709b034');
    expect(hex(hostKeys.hostToPhone.key)).toBe('3095fcf726b43b5f91d7eb6988eebc25687525a21153987762e1fa4757e29f5e');
    expect(hex(hostKeys.hostToPhone.iv)).toBe('72d41435');
    expect(hex(hostKeys.phoneToHost.key)).toBe('8d2ea45d7f43619db3df65e5f1425c1f7eb613abe88ce707de8103d6995dcfcb');
    expect(hex(hostKeys.phoneToHost.iv)).toBe('e95754f0');
    expect(hostKeys.sas).toBe('096948');
    expect(phoneKeys).toEqual(hostKeys);
  });

  it('a sealed frame: a status request, tag 1, as the host’s third frame (seq 2)', () => {
    const frame = sealFrame(hostKeys.hostToPhone, { type: FrameType.DATA, flags: 0, channel: 0, seq: 2, ack: 0 }, [Uint8Array.of(1, 1, 1, 0, 0, 0)]);
    expect(hex(frame)).toBe('54455448011000000200000000000000160000001685d8ec29697bf940a18d22376140ec28124415592ca6f9ed39');
    const f = decodeFrame(frame, 1024);
    expect(hex(openFrame(phoneKeys.hostToPhone, f.raw, f.seq))).toBe('010101000000');
  });

  it('a large frame of several parts (sealed slice by slice) is byte for byte one AES-256-GCM pass over their concatenation', () => {
    // Sizes straddle the sealer's internal slice boundaries, with an empty part between.
    const parts = [12, 150_001, 0, 65_536, 70_000].map((n, i) => new Uint8Array(n).map((_, j) => (j * 31 + i) & 0xff));
    const header = { type: FrameType.DATA, flags: 0, channel: 1 as const, seq: 7, ack: 3 };
    const frame = sealFrame(hostKeys.hostToPhone, header, parts);
    const plain = Buffer.concat(parts);
    const nonce = Buffer.alloc(12);
    hostKeys.hostToPhone.iv.copy(nonce, 0);
    nonce.writeUInt32LE(7, 4);
    const reference = createCipheriv('aes-256-gcm', hostKeys.hostToPhone.key, nonce);
    reference.setAAD(frame.subarray(0, 20));
    const expected = Buffer.concat([reference.update(plain), reference.final(), reference.getAuthTag()]);
    expect(Buffer.from(frame.subarray(24)).equals(expected)).toBe(true);
    const f = decodeFrame(frame, 1 << 20);
    expect(Buffer.from(openFrame(phoneKeys.hostToPhone, f.raw, f.seq)).equals(plain)).toBe(true);
  });
});
