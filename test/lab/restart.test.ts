import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../../lab';
import type { LabService } from '../../lab/context';
import { tempDir } from './support';

let tmp: { dir: string; remove: () => void };
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.remove());

describe('lab state folder', () => {
  it('keeps the CA, lockout state and published certificates across a restart', async () => {
    const first = await startLab({ stateDir: tmp.dir, services: [], lockoutThreshold: 2 });
    const fingerprint = first.endpoints.ca.fingerprint;
    const { users } = first.context;
    const alice = users.bySipUri('sip:alice@contoso.test')!;
    expect(users.checkPin(alice, 'x')).toBe('bad-pin');
    expect(users.checkPin(alice, 'y')).toBe('locked');
    users.publish(users.bySipUri('sip:carol@contoso.test')!, 'PEM');
    const leaf = first.context.tls.current().cert;
    await first.stop();
    await first.stop(); // idempotent

    const second = await startLab({ stateDir: tmp.dir, services: [], lockoutThreshold: 2 });
    try {
      expect(second.endpoints.ca.fingerprint).toBe(fingerprint);
      expect(readFileSync(second.ca.rootCertPath, 'utf8')).toBe(first.ca.rootCertPem);
      expect(second.context.users.bySipUri('sip:alice@contoso.test')).toMatchObject({ locked: true, badPinCount: 2 });
      expect(second.context.users.isLocked(second.context.users.bySipUri('sip:alice@contoso.test')!)).toBe(true);
      expect(second.context.users.bySipUri('sip:carol@contoso.test')!.published).toEqual(['PEM']);
      // The server certificate is reused, not re-made, when nothing about it changed.
      expect(second.context.tls.current().cert).toBe(leaf);
    } finally {
      await second.stop();
    }
  });

  it('starts services with the context, merges their endpoints, and stops them in reverse', async () => {
    const order: string[] = [];
    const service = (name: string, endpoints: Record<string, string | number>): LabService => ({
      name,
      start: async (ctx) => {
        order.push(`start ${name}`);
        expect(ctx.stateDir).toBe(tmp.dir);
        return { endpoints, stop: async () => void order.push(`stop ${name}`) };
      },
    });
    const lab = await startLab({
      stateDir: tmp.dir,
      services: [service('registrar', { sip: 'sip:pool01.contoso.test:5061;transport=tls' }), service('other', { sip: 'x', http: 'y' })],
    });
    expect(lab.endpoints.sip).toBe('sip:pool01.contoso.test:5061;transport=tls');
    expect(lab.endpoints['other.sip']).toBe('x');
    expect(lab.endpoints['other.http']).toBe('y');
    expect(lab.endpoints.http).toBe(lab.context.httpBase);
    await lab.stop();
    expect(order).toEqual(['start registrar', 'start other', 'stop other', 'stop registrar']);
  });

  it('stops what it started when a service fails, with LAB_SERVICE_FAILED', async () => {
    const stopped: string[] = [];
    const ok: LabService = { name: 'ok', start: async () => ({ stop: async () => void stopped.push('ok') }) };
    const bad: LabService = {
      name: 'bad',
      start: async () => {
        throw new Error('port busy');
      },
    };
    await expect(startLab({ stateDir: tmp.dir, services: [ok, bad] })).rejects.toMatchObject({
      code: 'LAB_SERVICE_FAILED',
      detail: { service: 'bad' },
    });
    expect(stopped).toEqual(['ok']);
  });

  it('refuses bad options and a taken port with typed errors', async () => {
    await expect(startLab({ stateDir: tmp.dir, domain: 'not a domain' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(startLab({ stateDir: tmp.dir, httpPort: 70000 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    writeFileSync(join(tmp.dir, 'a-file'), 'x');
    await expect(startLab({ stateDir: join(tmp.dir, 'a-file', 'sub') })).rejects.toMatchObject({ code: 'LAB_STATE_UNWRITABLE' });
    const lab = await startLab({ stateDir: tmp.dir, services: [] });
    try {
      await expect(startLab({ stateDir: tmp.dir, services: [], httpPort: lab.httpPort })).rejects.toMatchObject({
        code: 'LAB_LISTEN_FAILED',
      });
    } finally {
      await lab.stop();
    }
  });
});
