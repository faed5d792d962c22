import { mkdir, writeFile } from 'node:fs/promises';
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
