import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { StageRunner, type StageEvent } from '../../../main/bootstrap/stage-events';

describe('StageRunner', () => {
  it('reports start, progress and end in order', async () => {
    const events: StageEvent[] = [];
    let t = 0;
    const runner = new StageRunner((e) => events.push(e), () => ++t);
    const value = await runner.run('ca-chain', async (progress) => {
      progress('downloading', 0.5);
      return { value: 42, summary: 'chain of 2' };
    });
    expect(value).toBe(42);
    expect(events.map((e) => e.type)).toEqual(['stage-start', 'stage-progress', 'stage-end']);
    expect(events[2]).toMatchObject({ outcome: 'done', summary: 'chain of 2', stage: 'ca-chain' });
  });

  it('attributes a stage-less failure to the running stage and rethrows it typed', async () => {
    const events: StageEvent[] = [];
    const runner = new StageRunner((e) => events.push(e));
    const failure = runner.run('auth', async () => {
      throw new TetherError('TIMEOUT');
    });
    await expect(failure).rejects.toMatchObject({ code: 'TIMEOUT', stage: 'auth' });
    expect(events.at(-1)).toMatchObject({ type: 'stage-failed', stage: 'auth', error: { code: 'TIMEOUT', stage: 'auth' } });
  });

  it('wraps foreign exceptions as INTERNAL', async () => {
    const runner = new StageRunner(() => undefined);
    await expect(runner.run('logon', async () => Promise.reject(new Error('x')))).rejects.toMatchObject({ code: 'INTERNAL', stage: 'logon' });
  });
});
