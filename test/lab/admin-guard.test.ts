import { request as httpRequest } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../lab';
import { tempDir } from './support';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;

beforeAll(async () => {
  tmp = tempDir('tether-lab-admin-');
  lab = await startLab({ stateDir: tmp.dir, services: [] });
});
afterAll(async () => {
  await lab?.stop();
  tmp.remove();
});

function post(path: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: lab.httpPort, method: 'POST', path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const token = () => String((lab.endpoints as Record<string, unknown>).adminToken);
const own = () => `127.0.0.1:${lab.httpPort}`;
const body = JSON.stringify({ fault: 'account-locked', on: true });

describe('the lab admin endpoint cannot be driven from a web page', () => {
  it('refuses a cross-site text/plain POST (what a form or no-cors fetch can send) and changes nothing', async () => {
    expect(await post('/lab/faults', body, { 'content-type': 'text/plain', host: own() })).toBeGreaterThanOrEqual(400);
    expect(await post('/lab/faults', body, { 'content-type': 'text/plain', host: own(), authorization: `Bearer ${token()}` })).toBe(415);
    expect(lab.context.faults.has('account-locked')).toBe(false);
  });

  it('refuses a request without the per-run token, or with a wrong one', async () => {
    expect(await post('/lab/faults', body, { 'content-type': 'application/json', host: own() })).toBe(401);
    expect(await post('/lab/faults', body, { 'content-type': 'application/json', host: own(), authorization: `Bearer ${'0'.repeat(64)}` })).toBe(401);
    expect(await post('/lab/users/unlock', JSON.stringify({ sipUri: 'sip:bob@contoso.test' }), { 'content-type': 'application/json', host: own() })).toBe(401);
    expect(lab.context.faults.has('account-locked')).toBe(false);
  });

  it('refuses a Host that is not the lab’s own address (DNS rebinding), even with the token', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token()}` };
    expect(await post('/lab/faults', body, { ...headers, host: `attacker.example:${lab.httpPort}` })).toBe(403);
    expect(await post('/lab/faults', body, { ...headers, host: '127.0.0.1:1' })).toBe(403);
    expect(lab.context.faults.has('account-locked')).toBe(false);
  });

  it('accepts the token, JSON and its own Host; the token is printed and kept 0600 in the state folder only', async () => {
    expect(token()).toMatch(/^[0-9a-f]{64}$/);
    const file = join(tmp.dir, 'admin-token');
    expect(readFileSync(file, 'utf8').trim()).toBe(token());
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o077).toBe(0);
    expect(readFileSync(join(tmp.dir, 'endpoints.json'), 'utf8')).not.toContain(token());
    expect(await post('/lab/faults', body, { 'content-type': 'application/json; charset=utf-8', host: own(), authorization: `Bearer ${token()}` })).toBe(200);
    expect(lab.context.faults.has('account-locked')).toBe(true);
    lab.context.faults.set('account-locked', false);
  });
});
