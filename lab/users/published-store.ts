import { createHash } from 'node:crypto';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TetherError } from '../../common/errors';
import { parseStateJson, readStateFile, SaveQueue, writeFileAtomic } from '../state';

/**
 * The certificates the lab's CertProv published, as a pool's user store keeps them: the CURRENT
 * certificate per device (a phone that signs in again replaces its own), at most
 * MAX_DEVICES_PER_USER devices per user (the least recently signed in goes first). Each device's
 * certificate is its own small file, `published/<domain>/<user hash>/<device hash>.json`, so a
 * sign-in writes ~1.5 KB once instead of rewriting every user's whole history (docs/lab.md).
 */
export const MAX_DEVICES_PER_USER = 16;
const FORMAT = 'tether-lab-published/1';

interface Entry {
  readonly deviceId: string;
  readonly seq: number;
  readonly certPem: string;
}

const hash16 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);

export interface PublishedStore {
  /** The user's certificates, least recently published first. */
  list(sipUri: string): string[];
  /** Records `certPem` as `deviceId`'s current certificate; the file write runs in the background. */
  publish(sipUri: string, deviceId: string, certPem: string): void;
  /** Resolves when every queued write is done; rejects with the first failure since the last call. */
  flush(): Promise<void>;
}

export async function openPublishedStore(stateDir: string, domain: string, sipUris: readonly string[]): Promise<PublishedStore> {
  const root = join(stateDir, 'published', domain);
  const byUser = new Map<string, Entry[]>();
  let seq = 0;
  for (const sipUri of sipUris) {
    const dir = join(root, hash16(sipUri.toLowerCase()));
    const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw new TetherError('LAB_STATE_CORRUPT', `Cannot read ${dir}.`, { detail: { path: dir }, cause: err });
    });
    const entries: Entry[] = [];
    for (const name of names.filter((n) => /^[0-9a-f]{16}\.json$/.test(n))) {
      const file = join(dir, name);
      const text = await readStateFile(file);
      if (text === undefined) continue;
      const doc = parseStateJson(file, text) as Record<string, unknown>;
      if (doc?.format !== FORMAT || typeof doc.deviceId !== 'string' || typeof doc.certPem !== 'string' || !Number.isSafeInteger(doc.seq)) {
        throw new TetherError('LAB_STATE_CORRUPT', `${file} is not a published certificate record.`, { detail: { path: file } });
      }
      entries.push({ deviceId: doc.deviceId, seq: doc.seq as number, certPem: doc.certPem });
    }
    entries.sort((a, b) => a.seq - b.seq);
    byUser.set(sipUri.toLowerCase(), entries);
    seq = Math.max(seq, ...entries.map((e) => e.seq));
  }

  const queue = new SaveQueue();
  let lastError: unknown;
  const background = (write: () => Promise<void>) => {
    queue.run(write).catch((err: unknown) => {
      lastError ??= err;
    });
  };
  const fileOf = (sipUri: string, deviceId: string) => join(root, hash16(sipUri), `${hash16(deviceId)}.json`);

  return {
    list: (sipUri) => (byUser.get(sipUri.toLowerCase()) ?? []).map((e) => e.certPem),
    publish(sipUri, deviceId, certPem) {
      const key = sipUri.toLowerCase();
      const entry: Entry = { deviceId, seq: ++seq, certPem };
      const entries = (byUser.get(key) ?? []).filter((e) => e.deviceId !== deviceId);
      entries.push(entry);
      const dropped = entries.splice(0, Math.max(0, entries.length - MAX_DEVICES_PER_USER));
      byUser.set(key, entries);
      background(async () => {
        await writeFileAtomic(fileOf(key, deviceId), JSON.stringify({ format: FORMAT, sipUri: key, ...entry }) + '\n', 0o600);
        for (const d of dropped) await unlink(fileOf(key, d.deviceId)).catch(() => undefined);
      });
    },
    async flush() {
      await queue.idle();
      if (lastError !== undefined) {
        const err = lastError;
        lastError = undefined;
        throw err;
      }
    },
  };
}
