import { describe, expect, it } from 'vitest';
import { reraiseInterrupt } from '../../../main/cli/io';

describe('reraiseInterrupt', () => {
  it('closes the prompt and delivers SIGINT to the process (readline in raw mode swallows Ctrl-C)', async () => {
    let closed = false;
    const got = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    reraiseInterrupt({ close: () => (closed = true) })();
    expect(closed).toBe(true);
    await got;
  });
});
