import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabEndpoints, LabUserEndpoint } from './index';
import { parseStateJson, readStateFile, writeFileAtomic } from './state';

/**
 * `<state>/endpoints.json`: the lab's endpoints document for other processes on this PC (the
 * helpdesk commands' `--lab DIR`), so nobody copies ports by hand. OUR MODEL; see docs/lab.md.
 * It is the document `tether lab` prints first, minus the users' passwords and PINs (secrets never
 * reach disk), plus who wrote it: the lab's pid, so a reader can tell a file left by a killed lab.
 */
export const ENDPOINTS_FILE = 'endpoints.json';
export const ENDPOINTS_FORMAT = 'tether-lab-endpoints/1';

export type LabUserOnDisk = Omit<LabUserEndpoint, 'password' | 'pin'>;

/** LabEndpoints without `users` and `adminToken` (a key remap: Omit would lose the named keys to the index signature). */
type LabEndpointsWithoutUsers = { [K in keyof LabEndpoints as K extends 'users' | 'adminToken' ? never : K]: LabEndpoints[K] };

export type LabEndpointsFile = LabEndpointsWithoutUsers & {
  format: typeof ENDPOINTS_FORMAT;
  /** The lab's process; the reader checks it is alive. */
  pid: number;
  /** Random per start, so a stopping lab removes only its own file, not a newer lab's. */
  instance: string;
  startedAt: string;
  users: LabUserOnDisk[];
};

/** The document without secrets: only the listed user fields are copied, never the rest. */
export function endpointsForDisk(endpoints: LabEndpoints, pid: number, instance: string, now: Date): LabEndpointsFile {
  // The admin token stays out: it has its own 0600 file (ADMIN_TOKEN_FILE).
  const { adminToken: _token, ...rest } = endpoints;
  return {
    ...rest,
    format: ENDPOINTS_FORMAT,
    pid,
    instance,
    startedAt: now.toISOString(),
    users: endpoints.users.map((u) => ({ sipUri: u.sipUri, ntlm: u.ntlm, phoneNumber: u.phoneNumber, extension: u.extension })),
  };
}

export interface PublishedEndpoints {
  readonly path: string;
  /** Removes the file if it is still this lab's (another lab may have started on the same folder). */
  remove(): Promise<void>;
}

export async function publishEndpoints(stateDir: string, endpoints: LabEndpoints): Promise<PublishedEndpoints> {
  const path = join(stateDir, ENDPOINTS_FILE);
  const instance = randomBytes(8).toString('hex');
  await writeFileAtomic(path, JSON.stringify(endpointsForDisk(endpoints, process.pid, instance, new Date()), null, 2) + '\n');
  return {
    path,
    async remove() {
      const text = await readStateFile(path).catch(() => undefined);
      if (text === undefined) return;
      let owner: unknown;
      try {
        owner = (parseStateJson(path, text) as { instance?: unknown }).instance;
      } catch {
        return; // not ours to judge: leave a file we did not write
      }
      if (owner === instance) await unlink(path).catch(() => undefined);
    },
  };
}
