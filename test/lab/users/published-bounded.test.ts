import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_DEVICES_PER_USER, openUserDirectory } from '../../../lab/users/directory';
import { tempDir } from '../support';

let tmp: { dir: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

const pem = (n: number) => `-----BEGIN CERTIFICATE-----\n${'A'.repeat(1200)}${n}\n-----END CERTIFICATE-----\n`;

describe('the lab keeps the published set bounded and writes it incrementally', () => {
  it('keeps the current certificate per device: re-signing the same phone replaces it', async () => {
    const users = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    const bob = users.bySipUri('sip:bob@contoso.test')!;
    for (let i = 0; i < 30; i++) users.publish(bob, pem(i), 'device-1');
    users.publish(bob, pem(100), 'device-2');
    await users.save();
    expect(bob.published).toEqual([pem(29), pem(100)]);
    const again = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    expect(again.bySipUri('sip:bob@contoso.test')!.published).toEqual([pem(29), pem(100)]);
  });

  it('caps the devices per user, dropping the least recently signed in', async () => {
    const users = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    const bob = users.bySipUri('sip:bob@contoso.test')!;
    for (let i = 0; i < MAX_DEVICES_PER_USER + 5; i++) users.publish(bob, pem(i), `device-${i}`);
    await users.save();
    expect(bob.published).toHaveLength(MAX_DEVICES_PER_USER);
    expect(bob.published[0]).toBe(pem(5));
    const again = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    expect(again.bySipUri('sip:bob@contoso.test')!.published).toEqual(bob.published);
  });

  it('does not rewrite the user file with every certificate: its size does not grow with sign-ins', async () => {
    const users = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    await users.save();
    const before = statSync(users.file).size;
    const bob = users.bySipUri('sip:bob@contoso.test')!;
    for (let i = 0; i < 20; i++) users.publish(bob, pem(i), `device-${i % 3}`);
    await users.save();
    expect(statSync(users.file).size).toBe(before);
    expect(readFileSync(users.file, 'utf8')).not.toContain('BEGIN CERTIFICATE');
    // One small file per device holds its current certificate.
    const files = readdirSync(join(tmp.dir, 'published'), { recursive: true }).filter((f) => String(f).endsWith('.json'));
    expect(files).toHaveLength(3);
  });
});

describe('a user file from before the published store', () => {
  it('moves the newest certificate to the store and drops the list from the user file', async () => {
    const first = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    const doc = JSON.parse(readFileSync(first.file, 'utf8'));
    doc.users[1].published = [pem(1), pem(2), pem(3)];
    const { writeFileSync } = await import('node:fs');
    writeFileSync(first.file, JSON.stringify(doc));
    const users = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    expect(users.all()[1]!.published).toEqual([pem(3)]);
    expect(readFileSync(users.file, 'utf8')).not.toContain('BEGIN CERTIFICATE');
    const again = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    expect(again.all()[1]!.published).toEqual([pem(3)]);
  });
});
