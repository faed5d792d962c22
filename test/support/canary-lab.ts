import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Canary secrets: a PIN and a password long and odd enough that finding them anywhere can only
 * mean they leaked. A lab state folder is seeded with a user who has them (the lab reads its users
 * from `users-<domain>.json`, docs/lab.md).
 */
export const CANARY_PIN = '7318642950135';
export const CANARY_PASSWORD = 'Canary-Pw-Zq81x!';
export const CANARY_USER = { sipUri: 'sip:canary@contoso.test', ntlm: 'CONTOSO\\canary', phoneNumber: '+14255550199', extension: '199' };

export async function seedCanaryLab(labDir: string): Promise<void> {
  await mkdir(labDir, { recursive: true });
  const user = {
    sipUri: CANARY_USER.sipUri,
    domain: 'CONTOSO',
    username: 'canary',
    displayName: 'Canary User',
    password: CANARY_PASSWORD,
    phoneNumber: CANARY_USER.phoneNumber,
    extension: CANARY_USER.extension,
    pin: CANARY_PIN,
    badPinCount: 0,
    locked: false,
    published: [],
  };
  await writeFile(join(labDir, 'users-contoso.test.json'), JSON.stringify({ version: 1, domain: 'contoso.test', users: [user] }, null, 2), { mode: 0o600 });
}

/** Every file under `dir`, recursively. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if ((await stat(p)).isFile()) out.push(p);
  }
  return out;
}

/** The files under `dir` that hold `secret` (UTF-8 or UTF-16LE). */
export async function filesHolding(dir: string, secret: string): Promise<string[]> {
  const hits: string[] = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file);
    if (bytes.includes(Buffer.from(secret, 'utf8')) || bytes.includes(Buffer.from(secret, 'utf16le'))) hits.push(file);
  }
  return hits;
}
