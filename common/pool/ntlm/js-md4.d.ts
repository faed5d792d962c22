// js-md4 ships no types; this is the part of its API we use (MD4 is disabled in Node's OpenSSL 3).
declare module 'js-md4' {
  interface Md4 {
    arrayBuffer(message: ArrayBuffer | Uint8Array | string): ArrayBuffer;
  }
  const md4: Md4;
  export default md4;
}
