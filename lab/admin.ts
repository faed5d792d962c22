import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { FAULT_NAMES, type LabFaults, type LabRoutes, type LabUsers, type RouteInfo } from './context';
import { isFaultName } from './faults';
import { readBody, sendJson } from './http/routes';

const MAX_ADMIN_BODY = 16 * 1024;

/** Loopback peers only: the admin endpoint switches faults, so nobody else may reach it. */
function fromLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return (isIP(v4) === 4 && v4.startsWith('127.')) || a === '::1';
}

/**
 * Who may drive the admin endpoint. A loopback peer alone is not enough: any web page the user has
 * open can make the browser POST to 127.0.0.1 (a text/plain form needs no CORS preflight), and DNS
 * rebinding can make it read the answers. So every request must also carry the per-run token
 * (`Authorization: Bearer`, which a cross-site page cannot add without a preflight the lab never
 * grants), name the lab's own address in `Host` (a rebound name does not), and a POST must be
 * `application/json`.
 */
export interface AdminAccess {
  /** Random per start; printed with the endpoints and kept 0600 in the state folder. */
  readonly token: string;
  /** The `Host` values that name the listener a request came in on (`127.0.0.1:PORT`, …). */
  readonly ownHosts: (secure: boolean) => readonly string[];
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Why `req` may not use the admin endpoint (status and message), or null when it may. */
function refusal(req: IncomingMessage, info: RouteInfo, access: AdminAccess): { status: number; error: string } | null {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!access.ownHosts(info.secure).includes(host)) return { status: 403, error: "The lab admin endpoint answers only requests addressed to the lab's own address." };
  if (!fromLoopback(req)) return { status: 403, error: 'The lab admin endpoint answers loopback clients only.' };
  const auth = /^Bearer ([0-9a-f]{1,128})$/i.exec(req.headers.authorization ?? '');
  if (!auth || !sameSecret(auth[1]!.toLowerCase(), access.token)) {
    return { status: 401, error: "Send the lab's admin token: Authorization: Bearer <adminToken from the lab's first line or <state>/admin-token>." };
  }
  if (req.method === 'POST' && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
    return { status: 415, error: 'Send the body as Content-Type: application/json.' };
  }
  return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_ADMIN_BODY);
  return body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown);
}

/**
 * The lab's admin endpoints (documented in docs/lab.md), each behind `refusal`:
 *   GET  /lab/faults          → { faults, slowMs, known }
 *   POST /lab/faults          ← { "fault": NAME, "on": bool } | { "faults": { NAME: bool, … } } | { "slowMs": n }
 *   POST /lab/users/unlock    ← { "sipUri": "sip:alice@contoso.test" }  (the admin's fix for [S11])
 */
export function addAdminRoutes(routes: LabRoutes, faults: LabFaults, users: LabUsers, access: AdminAccess): void {
  const state = () => ({ faults: faults.list(), slowMs: faults.slowMs, known: FAULT_NAMES });
  const guard =
    (inner: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void) =>
    async (req: IncomingMessage, res: ServerResponse, info: RouteInfo) => {
      const refused = refusal(req, info, access);
      if (refused) {
        req.resume();
        sendJson(res, refused.status, { error: refused.error });
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
