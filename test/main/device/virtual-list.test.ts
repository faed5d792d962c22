import { describe, expect, it } from 'vitest';
import { parseVirtualList } from '../../../main/device/fleet';

describe('parseVirtualList', () => {
  it('reads MODEL[:SPEED[:SERIAL]] items', () => {
    expect(parseVirtualList(['CX600', ' hp4120:full ', 'CX3000:high:CX3000-0001', ''])).toEqual([
      { model: 'CX600' },
      { model: 'hp4120', speed: 'full' },
      { model: 'CX3000', speed: 'high', serial: 'CX3000-0001' },
    ]);
  });

  it('refuses unknown models and speeds, and extra parts, with a typed usage error', () => {
    for (const bad of ['NOKIA', 'CX600:fast', 'CX600:high:a:b']) {
      expect(() => parseVirtualList([bad]), bad).toThrowError(expect.objectContaining({ code: 'BAD_INPUT' }));
    }
  });
});
