import { createHash } from 'node:crypto';

/**
 * A deterministic test image of `size` bytes (SHA-256 in counter mode over `seed`), streamed in
 * chunks so even a large one never sits in memory. Not a real firmware: the lab and the demo use
 * it where a Microsoft .cab would go.
 */
export async function* testImageChunks(seed: string, size: number, chunkSize = 64 * 1024): AsyncGenerator<Uint8Array> {
  let produced = 0;
  let counter = 0;
  while (produced < size) {
    const n = Math.min(chunkSize, size - produced);
    const chunk = new Uint8Array(n);
    for (let at = 0; at < n; at += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      chunk.set(block.subarray(0, Math.min(32, n - at)), at);
    }
    produced += n;
    yield chunk;
  }
}

export async function testImage(seed: string, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let at = 0;
  for await (const chunk of testImageChunks(seed, size)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
