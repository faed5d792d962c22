import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { FAULT_NAMES, type LabFaults, type LabRoutes, type LabUsers } from './context';
import { isFaultName } from './faults';
import { readBody, sendJson } from './http/routes';

const MAX_ADMIN_BODY = 16 * 1024;

/** Loopback peers only: the admin endpoint switches faults, so nobody else may reach it. */
function fromLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return (isIP(v4) === 4 && v4.startsWith('127.')) || a === '::1';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_ADMIN_BODY);
  return body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown);
}

/**
 * The lab's admin endpoints (documented in docs/lab.md):
 *   GET  /lab/faults          → { faults, slowMs, known }
 *   POST /lab/faults          ← { "fault": NAME, "on": bool } | { "faults": { NAME: bool, … } } | { "slowMs": n }
 *   POST /lab/users/unlock    ← { "sipUri": "sip:alice@contoso.test" }  (the admin's fix for [S11])
 */
export function addAdminRoutes(routes: LabRoutes, faults: LabFaults, users: LabUsers): void {
  const state = () => ({ faults: faults.list(), slowMs: faults.slowMs, known: FAULT_NAMES });
  const guard =
    (inner: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void) =>
    async (req: IncomingMessage, res: ServerResponse) => {
      if (!fromLoopback(req)) {
        sendJson(res, 403, { error: 'The lab admin endpoint answers loopback clients only.' });
        return;
      }
      try {
        await inner(req, res);
      } catch (err) {
        const status = (err as { status?: number }).status ?? 400;
        sendJson(res, status, { error: (err as Error).message });
      }
    };

  routes.add('GET', '/lab/faults', guard((_req, res) => sendJson(res, 200, state())));
  routes.add(
    'POST',
    '/lab/faults',
    guard(async (req, res) => {
      const body = await readJson(req);
      if (!isRecord(body)) throw new Error('Send a JSON object.');
      const changes: [string, unknown][] = [];
      if ('fault' in body) changes.push([String(body.fault), body.on ?? true]);
      if (isRecord(body.faults)) changes.push(...Object.entries(body.faults));
      // Check everything first so a bad request changes nothing.
      for (const [name, on] of changes) {
        if (!isFaultName(name)) throw new Error(`Unknown fault '${name.slice(0, 64)}'. Known: ${FAULT_NAMES.join(', ')}.`);
        if (typeof on !== 'boolean') throw new Error(`'${name}' must be true or false.`);
      }
      const slow = body.slowMs;
      if (slow !== undefined && (typeof slow !== 'number' || !Number.isFinite(slow) || slow < 0 || slow > 600_000)) {
        throw new Error('slowMs must be a number of milliseconds from 0 to 600000.');
      }
      if (changes.length === 0 && slow === undefined) throw new Error("Nothing to change: send 'fault', 'faults' or 'slowMs'.");
      for (const [name, on] of changes) if (isFaultName(name)) faults.set(name, on === true);
      if (typeof slow === 'number') faults.slowMs = slow;
      sendJson(res, 200, state());
    }),
  );
  routes.add(
    'POST',
    '/lab/users/unlock',
    guard(async (req, res) => {
      const body = await readJson(req);
      const sipUri = isRecord(body) && typeof body.sipUri === 'string' ? body.sipUri : undefined;
      const user = sipUri === undefined ? undefined : users.bySipUri(sipUri);
      if (!user) {
        sendJson(res, 404, { error: 'No such lab user; send { "sipUri": "sip:…" }.' });
        return;
      }
      users.unlock(user);
      await users.save();
      sendJson(res, 200, { sipUri: user.sipUri, locked: false });
    }),
  );
}
