import { timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { TetherError } from '../../common/errors';
import type { LabUser, LabUsers } from '../context';
import { SaveQueue, parseStateJson, readStateFile, writeFileAtomic } from '../state';
import { openPublishedStore } from './published-store';
import { DEMO_USERS, netbiosName, type SeedUser } from './seed';

export { MAX_DEVICES_PER_USER } from './published-store';

/** Bad PINs in a row before an account locks (the lab's PIN policy; Lync's is admin-set). */
export const DEFAULT_LOCKOUT_THRESHOLD = 5;

export interface UserDirectoryOptions {
  /** Folder holding `users-<domain>.json`. */
  dir: string;
  /** SIP domain, e.g. contoso.test. */
  domain: string;
  lockoutThreshold?: number;
  /** Users to create when there is no state yet (default: the demo users). */
  seed?: readonly SeedUser[];
  /** True while the 'account-locked' fault locks every account. */
  allLocked?: () => boolean;
}

export interface LabUserRecord extends LabUser {
  readonly displayName: string;
}

export interface PersistentLabUsers extends LabUsers {
  readonly file: string;
  all(): LabUserRecord[];
}

const digits = (s: string) => s.replace(/\D+/g, '');

/** Strips 'tel:' / 'sip:' and a ';ext=' or 'x' suffix a user might type. */
function normaliseNumber(input: string): { number: string; ext: string | undefined } {
  const s = input.trim().replace(/^(tel|sip):/i, '');
  const m = /^(.*?)(?:;ext=|\s*(?:x|ext\.?)\s*)(\d+)$/i.exec(s);
  return m ? { number: digits(m[1]!), ext: m[2] } : { number: digits(s), ext: undefined };
}

function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Compare equal-length buffers in constant time; a length mismatch is itself a mismatch.
  const same = x.length === y.length && timingSafeEqual(x, y);
  x.fill(0);
  y.fill(0);
  return same;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readUser(v: unknown, file: string): LabUserRecord {
  const bad = () => new TetherError('LAB_STATE_CORRUPT', `${file} holds a malformed user entry.`, { detail: { path: file } });
  if (!isRecord(v)) throw bad();
  const str = (k: string) => {
    const x = v[k];
    if (typeof x !== 'string') throw bad();
    return x;
  };
  // Files before the published store held every certificate here; they are read once and moved.
  const published = v.published ?? [];
  if (!Array.isArray(published) || !published.every((p) => typeof p === 'string')) throw bad();
  const badPinCount = v.badPinCount;
  if (typeof badPinCount !== 'number' || !Number.isInteger(badPinCount) || badPinCount < 0) throw bad();
  if (typeof v.locked !== 'boolean') throw bad();
  return {
    sipUri: str('sipUri'),
    domain: str('domain'),
    username: str('username'),
    displayName: str('displayName'),
    password: str('password'),
    phoneNumber: str('phoneNumber'),
    extension: str('extension'),
    pin: str('pin'),
    badPinCount,
    locked: v.locked,
    published: published as string[],
  };
}

function fromSeed(seed: SeedUser, domain: string): LabUserRecord {
  return {
    sipUri: `sip:${seed.username}@${domain}`,
    domain: netbiosName(domain),
    username: seed.username,
    displayName: seed.displayName,
    password: seed.password,
    phoneNumber: seed.phoneNumber,
    extension: seed.extension,
    pin: seed.pin,
    badPinCount: 0,
    locked: false,
    published: [],
  };
}

/** The lab's user directory, persisted as JSON in the state folder (lab demo data, see docs/lab.md). */
export async function openUserDirectory(options: UserDirectoryOptions): Promise<PersistentLabUsers> {
  const domain = options.domain.toLowerCase();
  const file = join(options.dir, `users-${domain}.json`);
  const threshold = options.lockoutThreshold ?? DEFAULT_LOCKOUT_THRESHOLD;
  if (!Number.isInteger(threshold) || threshold < 1) throw new TetherError('BAD_INPUT', 'The lockout threshold must be ≥ 1.');
  const allLocked = options.allLocked ?? (() => false);
  const text = await readStateFile(file);
  let users: LabUserRecord[];
  if (text === undefined) {
    users = (options.seed ?? DEMO_USERS).map((s) => fromSeed(s, domain));
  } else {
    const doc = parseStateJson(file, text);
    if (!isRecord(doc) || doc.version !== 1 || !Array.isArray(doc.users)) {
      throw new TetherError('LAB_STATE_CORRUPT', `${file} is not a lab user file (version 1).`, { detail: { path: file } });
    }
    users = doc.users.map((u) => readUser(u, file));
  }
  // Certificates live in their own bounded store; the user file keeps only small account state.
  const store = await openPublishedStore(options.dir, domain, users.map((u) => u.sipUri));
  const legacy = users.filter((u) => u.published.length > 0 && store.list(u.sipUri).length === 0);
  for (const u of legacy) store.publish(u.sipUri, '', u.published.at(-1)!);
  for (const u of users) u.published = store.list(u.sipUri);
  const queue = new SaveQueue();
  const save = () =>
    queue.run(() =>
      writeFileAtomic(file, JSON.stringify({ version: 1, domain, users: users.map(({ published: _p, ...account }) => account) }, null, 2) + '\n', 0o600),
    );
  // State changes persist on their own; a failed background write is reported by the next save().
  let lastError: unknown;
  const persist = () => {
    save().then(
      () => {
        lastError = undefined;
      },
      (err: unknown) => {
        lastError = err;
      },
    );
  };
  const find = (u: LabUser) => users.find((x) => x === u || x.sipUri === u.sipUri);

  const directory: PersistentLabUsers = {
    file,
    lockoutThreshold: threshold,
    all: () => [...users],
    byNtlm(dom, username) {
      const d = dom.trim().toUpperCase();
      const n = username.trim().toLowerCase();
      // Accept the NetBIOS name or the DNS domain, as Windows does.
      return users.find((u) => u.username.toLowerCase() === n && (u.domain === d || d === domain.toUpperCase()));
    },
    bySipUri(sipUri) {
      const s = sipUri.trim().toLowerCase();
      const withScheme = s.startsWith('sip:') ? s : `sip:${s}`;
      return users.find((u) => u.sipUri.toLowerCase() === withScheme);
    },
    byPhoneOrExtension(input) {
      const { number, ext } = normaliseNumber(input);
      if (number.length === 0) return undefined;
      const byExt = (e: string) => users.filter((u) => u.extension === e);
      // A bare extension.
      if (ext === undefined && number.length <= 6) {
        const hits = byExt(number);
        return hits.length === 1 ? hits[0] : undefined;
      }
      let hits = users.filter((u) => digits(u.phoneNumber) === number);
      // A national number without the country code: match on the trailing digits.
      if (hits.length === 0 && number.length >= 7) hits = users.filter((u) => digits(u.phoneNumber).endsWith(number));
      // Number + extension disambiguates a shared number ([S11]: phone + extension must be unique).
      if (ext !== undefined) hits = hits.filter((u) => u.extension === ext);
      return hits.length === 1 ? hits[0] : undefined;
    },
    isLocked: (user) => allLocked() || (find(user)?.locked ?? user.locked),
    checkPin(user, pin) {
      const u = find(user);
      if (!u) return 'bad-pin';
      if (allLocked() || u.locked) return 'locked';
      if (equalSecret(pin, u.pin)) {
        if (u.badPinCount !== 0) {
          u.badPinCount = 0;
          persist();
        }
        return 'ok';
      }
      u.badPinCount += 1;
      if (u.badPinCount >= threshold) u.locked = true;
      persist();
      // The attempt that reaches the threshold already reports the lock, as the phone shows it.
      return u.locked ? 'locked' : 'bad-pin';
    },
    publish(user, certPem, deviceId = '') {
      const u = find(user);
      if (!u) throw new TetherError('BAD_INPUT', `No lab user ${user.sipUri}.`);
      store.publish(u.sipUri, deviceId, certPem);
      u.published = store.list(u.sipUri);
    },
    unlock(user) {
      const u = find(user);
      if (!u) return;
      u.locked = false;
      u.badPinCount = 0;
      persist();
    },
    async save() {
      await save();
      await store.flush().catch((err: unknown) => {
        lastError ??= err;
      });
      if (lastError !== undefined) {
        const err = lastError;
        lastError = undefined;
        throw toStateError(err, file);
      }
    },
  };
  if (text === undefined || legacy.length > 0) await directory.save();
  return directory;
}

function toStateError(err: unknown, file: string): TetherError {
  return err instanceof TetherError
    ? err
    : new TetherError('LAB_STATE_CORRUPT', `Cannot write ${file}.`, { detail: { path: file }, cause: err });
}
