import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openUserDirectory } from '../../../lab/users/directory';
import { DEMO_USERS } from '../../../lab/users/seed';
import { tempDir } from '../support';

let tmp: { dir: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

describe('lab user directory', () => {
  it('seeds the demo users for the domain and finds them every documented way', async () => {
    const users = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    expect(users.all().map((u) => u.sipUri)).toEqual(DEMO_USERS.map((u) => `sip:${u.username}@contoso.test`));
    const alice = users.bySipUri('sip:alice@contoso.test')!;
    expect(alice.domain).toBe('CONTOSO');
    expect(users.bySipUri('ALICE@contoso.test')).toBe(alice);
    expect(users.byNtlm('contoso', 'Alice')).toBe(alice);
    expect(users.byNtlm('CONTOSO.TEST', 'alice')).toBe(alice);
    expect(users.byNtlm('FABRIKAM', 'alice')).toBeUndefined();
    for (const q of ['+14255550101', '+1 (425) 555-0101', 'tel:+14255550101', '4255550101', '101', '14255550101;ext=101']) {
      expect(users.byPhoneOrExtension(q), q).toBe(alice);
    }
    expect(users.byPhoneOrExtension('14255550101;ext=102')).toBeUndefined();
    expect(users.byPhoneOrExtension('999')).toBeUndefined();
    expect(users.byPhoneOrExtension('')).toBeUndefined();
    expect(users.byPhoneOrExtension('---')).toBeUndefined();
  });

  it('counts bad PINs, locks at the threshold, resets on success, and unlocks', async () => {
    const users = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test', lockoutThreshold: 3 });
    const bob = users.bySipUri('sip:bob@contoso.test')!;
    const pin = DEMO_USERS.find((u) => u.username === 'bob')!.pin;
    expect(users.checkPin(bob, '0000')).toBe('bad-pin');
    expect(users.checkPin(bob, pin)).toBe('ok');
    expect(bob.badPinCount).toBe(0);
    expect(users.checkPin(bob, '0000')).toBe('bad-pin');
    expect(users.checkPin(bob, pin + '0')).toBe('bad-pin');
    expect(users.checkPin(bob, '')).toBe('locked');
    expect(users.isLocked(bob)).toBe(true);
    // Locked means locked: even the right PIN is refused until an admin unlocks.
    expect(users.checkPin(bob, pin)).toBe('locked');
    users.unlock(bob);
    expect(users.isLocked(bob)).toBe(false);
    expect(users.checkPin(bob, pin)).toBe('ok');
  });

  it('reports every account locked while the account-locked fault is on, without touching state', async () => {
    let fault = true;
    const users = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test', allLocked: () => fault });
    const carol = users.bySipUri('sip:carol@contoso.test')!;
    const pin = DEMO_USERS.find((u) => u.username === 'carol')!.pin;
    expect(users.checkPin(carol, pin)).toBe('locked');
    expect(users.isLocked(carol)).toBe(true);
    expect(carol.locked).toBe(false);
    fault = false;
    expect(users.checkPin(carol, pin)).toBe('ok');
  });

  it('persists lockout state and published certificates across a reopen, never the fault', async () => {
    const users = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test', lockoutThreshold: 2 });
    const alice = users.bySipUri('sip:alice@contoso.test')!;
    users.checkPin(alice, '1');
    users.checkPin(alice, '2');
    users.publish(users.bySipUri('sip:bob@contoso.test')!, '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n');
    await users.save();
    const again = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test', lockoutThreshold: 2 });
    expect(again.bySipUri('sip:alice@contoso.test')).toMatchObject({ locked: true, badPinCount: 2 });
    expect(again.bySipUri('sip:bob@contoso.test')!.published).toHaveLength(1);
    expect(again.bySipUri('sip:carol@contoso.test')).toMatchObject({ locked: false, badPinCount: 0 });
    // Another domain has its own file.
    const other = await openUserDirectory({ dir: tmp.dir, domain: 'fabrikam.test' });
    expect(other.bySipUri('sip:alice@fabrikam.test')).toMatchObject({ locked: false, domain: 'FABRIKAM' });
  });

  it('refuses a corrupt or foreign user file with LAB_STATE_CORRUPT', async () => {
    const users = await openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' });
    const text = readFileSync(users.file, 'utf8');
    for (const bad of ['{', '[]', '{"version":2,"users":[]}', text.replace('"badPinCount": 0', '"badPinCount": -1'), text.replace('"pin": ', '"pin": 5, "x": ')]) {
      writeFileSync(users.file, bad);
      await expect(openUserDirectory({ dir: tmp.dir, domain: 'contoso.test' })).rejects.toMatchObject({ code: 'LAB_STATE_CORRUPT' });
    }
  });
});
