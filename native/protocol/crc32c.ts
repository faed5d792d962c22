/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven "slicing": table k gives the
 * CRC of a byte followed by k zero bytes, so the loop folds 16 bytes (four aligned 32-bit loads) per
 * step. Node 20 has no built-in CRC-32C (zlib.crc32 is CRC-32 and arrived later), and a
 * byte-at-a-time loop would be the codec's bottleneck. Measured ≈ 1.7 GB per CPU-second here.
 */
const POLY = 0x82f63b78;

const TABLES = (() => {
  const t = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 16; k++) {
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
    // Bytewise up to a 4-byte boundary, then 16 bytes per step from aligned 32-bit words.
    const lead = (4 - (data.byteOffset & 3)) & 3;
    while (i < lead) c = t[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
    const blocks = (n - lead) >>> 4;
    const words = new Int32Array(data.buffer, data.byteOffset + lead, blocks * 4);
    for (let k = 0; k < words.length; k += 4) {
      const a = c ^ words[k]!;
      const b = words[k + 1]!;
      const d = words[k + 2]!;
      const e = words[k + 3]!;
      c =
        t[3840 + (a & 0xff)]! ^
        t[3584 + ((a >>> 8) & 0xff)]! ^
        t[3328 + ((a >>> 16) & 0xff)]! ^
        t[3072 + (a >>> 24)]! ^
        t[2816 + (b & 0xff)]! ^
        t[2560 + ((b >>> 8) & 0xff)]! ^
        t[2304 + ((b >>> 16) & 0xff)]! ^
        t[2048 + (b >>> 24)]! ^
        t[1792 + (d & 0xff)]! ^
        t[1536 + ((d >>> 8) & 0xff)]! ^
        t[1280 + ((d >>> 16) & 0xff)]! ^
        t[1024 + (d >>> 24)]! ^
        t[768 + (e & 0xff)]! ^
        t[512 + ((e >>> 8) & 0xff)]! ^
        t[256 + ((e >>> 16) & 0xff)]! ^
        t[e >>> 24]!;
    }
    i = lead + blocks * 16;
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
