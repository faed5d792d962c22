/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8: eight 256-entry tables let
 * the loop fold eight bytes per step. Node 20 has no built-in CRC-32C (zlib.crc32 is CRC-32 and
 * arrived later), and a byte-at-a-time loop would be the codec's bottleneck.
 */
const POLY = 0x82f63b78;

const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * CRC-32C of `data`. Pass the previous result as `crc` to continue over a second buffer:
 * crc32c(b, crc32c(a)) === crc32c(a ‖ b). Check value: crc32c("123456789") === 0xE3069283.
 */
export function crc32c(data: Uint8Array, crc = 0): number {
  const t = TABLES;
  let c = ~crc | 0;
  let i = 0;
  const n = data.length;
  if (LITTLE_ENDIAN && n >= 64) {
    // Bytewise up to a 4-byte boundary, then two aligned 32-bit loads per step (fewer loads and
    // shifts than assembling words from bytes).
    const lead = (4 - (data.byteOffset & 3)) & 3;
    while (i < lead) c = t[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
    const pairs = (n - lead) >>> 3;
    const words = new Int32Array(data.buffer, data.byteOffset + lead, pairs * 2);
    for (let k = 0; k < words.length; k += 2) {
      const lo = c ^ words[k]!;
      const hi = words[k + 1]!;
      c =
        t[1792 + (lo & 0xff)]! ^
        t[1536 + ((lo >>> 8) & 0xff)]! ^
        t[1280 + ((lo >>> 16) & 0xff)]! ^
        t[1024 + (lo >>> 24)]! ^
        t[768 + (hi & 0xff)]! ^
        t[512 + ((hi >>> 8) & 0xff)]! ^
        t[256 + ((hi >>> 16) & 0xff)]! ^
        t[hi >>> 24]!;
    }
    i = lead + pairs * 8;
  } else {
    const end8 = n - (n % 8);
    while (i < end8) {
      const lo = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
      const hi = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
      c =
        t[1792 + (lo & 0xff)]! ^
        t[1536 + ((lo >>> 8) & 0xff)]! ^
        t[1280 + ((lo >>> 16) & 0xff)]! ^
        t[1024 + (lo >>> 24)]! ^
        t[768 + (hi & 0xff)]! ^
        t[512 + ((hi >>> 8) & 0xff)]! ^
        t[256 + ((hi >>> 16) & 0xff)]! ^
        t[hi >>> 24]!;
      i += 8;
    }
  }
  while (i < n) c = t[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
