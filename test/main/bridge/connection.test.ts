import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { createServiceClient } from '../../../common/service/client';
import type { ProgressEventView } from '../../../common/service/contract';
import { MAX_CALL_BYTES, RemoteError, type CoreMessage } from '../../../common/service/wire';
import { internalNote, openConnection } from '../../../main/bridge/connection';
import { recordingService } from '../../support/recording-service';

const JOB = 'job-0000001';
const progress = (bytes: number): ProgressEventView => ({ jobId: JOB, serial: 'CX600-1', stage: 'check-update', message: 'Sending firmware', bytes, totalBytes: 100, fraction: bytes / 100 });

/** A connection and a client joined back to back in memory, as IPC or a WebSocket would join them. */
function joined(service = recordingService(), logInternal: (note: string) => void = () => undefined) {
  const sent: CoreMessage[] = [];
  let deliver: (data: unknown) => void = () => undefined;
  const timers: (() => void)[] = [];
  const connection = openConnection({
    service,
    send: (m) => {
      sent.push(m);
      deliver(JSON.parse(JSON.stringify(m)));
    },
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => undefined,
    logInternal,
  });
  const client = createServiceClient({
    send: (m) => void connection.receive(JSON.parse(JSON.stringify(m))),
    onMessage: (l) => {
      deliver = l;
      return () => (deliver = () => undefined);
    },
  });
  return { service, connection, client, sent, fireTimers: () => timers.splice(0).forEach((t) => t()) };
}

describe('the contract over a message carrier', () => {
  it('carries a call and its answer, with the arguments the service receives checked', async () => {
    const { client, service } = joined(recordingService({ startSignIn: () => ({ jobId: JOB }) }));
    await expect(client.startSignIn({ serial: 'CX600-1', kind: 'pin', user: '5012' })).resolves.toEqual({ jobId: JOB });
    expect(service.calls).toEqual([{ name: 'startSignIn', args: { serial: 'CX600-1', kind: 'pin', user: '5012' } }]);
  });

  it('refuses a malformed call where it enters, without reaching the service or echoing a secret', async () => {
    const { connection, service, sent } = joined();
    await connection.receive({ type: 'call', id: 7, name: 'provideCredentials', args: { jobId: JOB, secret: 'hunter2', extra: 1 } });
    await connection.receive({ type: 'call', id: 8, name: 'deleteEverything', args: {} });
    expect(service.calls).toEqual([]);
    expect(sent).toHaveLength(2);
    const text = JSON.stringify(sent);
    expect(text).toContain('"ContractError"');
    expect(text).not.toContain('hunter2');
    expect(sent.map((m) => m.type === 'result' && m.ok)).toEqual([false, false]);
  });

  it('drops an envelope that is not a call (no id to answer)', async () => {
    const { connection, service, sent } = joined();
    await connection.receive({ type: 'call', id: -1, name: 'listPhones', args: {} });
    await connection.receive('listPhones');
    expect(service.calls).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('sends a typed error back as the typed error, not a stack', async () => {
    const { client } = joined(
      recordingService({
        cancel: () => {
          throw new TetherError('BAD_INPUT', 'No such job.');
        },
      }),
    );
    const err = await client.cancel({ jobId: JOB }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code).toBe('BAD_INPUT');
    expect((err as RemoteError).message).toBe('No such job.');
    expect(JSON.stringify((err as RemoteError).wire)).not.toContain('at ');
  });

  it('refuses a call over MAX_CALL_BYTES (or one that cannot be serialised) before validating it, as the WebSocket does', async () => {
    const { connection, service, sent } = joined();
    const user = 'a'.repeat(MAX_CALL_BYTES);
    await connection.receive({ type: 'call', id: 1, name: 'startSignIn', args: { serial: 'CX600-1', kind: 'pin', user } });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await connection.receive({ type: 'call', id: 2, name: 'listPhones', args: cyclic });
    // Just under the bound still reaches validation (which refuses the long user on its own terms).
    await connection.receive({ type: 'call', id: 3, name: 'startSignIn', args: { serial: 'CX600-1', kind: 'pin', user: user.slice(0, MAX_CALL_BYTES - 200) } });
    expect(service.calls).toEqual([]);
    expect(sent.map((m) => m.type === 'result' && !m.ok && m.error)).toEqual([
      { type: 'ContractError', message: 'call larger than 16 KiB refused' },
      { type: 'ContractError', message: 'call larger than 16 KiB refused' },
      { type: 'ContractError', message: 'startSignIn.user: expected a string of 1–256 characters' },
    ]);
  });

  it('an unexpected error crosses as the generic INTERNAL; its message stays local and out of the log', async () => {
    const notes: string[] = [];
    const { client } = joined(
      recordingService({
        jobs: () => {
          throw Object.assign(new SyntaxError('Unexpected token \'h\', "hunter2" is not valid JSON'), { code: 'ERR_X' });
        },
      }),
      (n) => notes.push(n),
    );
    const err = (await client.jobs({}).catch((e: unknown) => e)) as RemoteError;
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toBe('Tether hit an unexpected internal error.');
    expect(JSON.stringify(err.wire)).not.toContain('hunter2');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^unexpected SyntaxError \(ERR_X\)\n\s+at /);
    expect(notes[0]).not.toContain('hunter2');
    expect(internalNote('hunter2')).toBe('unexpected string thrown');
  });

  it('the client checks arguments before they leave', async () => {
    const { client, service } = joined();
    await expect(client.confirmPairing({ jobId: 'x', matches: true })).rejects.toThrow(/job id/);
    expect(service.calls).toEqual([]);
  });

  it('forwards events and coalesces a job’s progress to the latest, flushing it before that job’s next event', () => {
    const { service, client, sent, fireTimers, connection } = joined();
    const seen: unknown[] = [];
    client.on('progress', (p) => seen.push(p.bytes));
    client.on('stage', (s) => seen.push(s.status));
    for (let b = 1; b <= 50; b++) service.emit('progress', progress(b));
    expect(seen).toEqual([]);
    fireTimers();
    expect(seen).toEqual([50]);
    service.emit('progress', progress(60));
    service.emit('progress', progress(70));
    service.emit('stage', { jobId: JOB, serial: 'CX600-1', stage: 'check-update', status: 'done', summary: null, failure: null, at: 1 });
    expect(seen).toEqual([50, 70, 'done']);
    expect(connection.stats.coalesced).toBe(50);
    expect(sent.filter((m) => m.type === 'event')).toHaveLength(3);
  });

  it('closing unsubscribes from the service and sends nothing more', () => {
    const { service, connection, sent } = joined();
    expect(service.listenerCount('job')).toBe(1);
    connection.close();
    expect(service.listenerCount('job')).toBe(0);
    service.emit('phones', []);
    expect(sent).toEqual([]);
  });
});
