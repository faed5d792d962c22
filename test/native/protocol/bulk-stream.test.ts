import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connect } from './fixtures';

// Throughput and CPU cost are measured by `npm run bench` (ratios in one run), never here.
describe('bulk stream through host and phone sessions', () => {
  it('delivers 16 MiB in order and intact under the credit window', async () => {
    let got = 0;
    const phoneHash = createHash('sha256');
    let nextOffset = 0;
    const { host } = await connect({
      onBulk: async (c) => {
        expect(c.offset).toBe(nextOffset);
        nextOffset += c.data.length;
        phoneHash.update(c.data);
        got += c.data.length;
      },
    });
    const image = randomBytes(16 * 1024 * 1024);
    const w = host.bulkWriter(1);
    await w.write(0, image);
    await w.flush();
    expect(got).toBe(image.length);
    expect(phoneHash.digest('hex')).toBe(createHash('sha256').update(image).digest('hex'));
    await host.close();
  });
});
