/**
 * The lab's demo users. Their passwords and PINs are LAB DATA ONLY, published in docs/lab.md and
 * printed by `tether lab` so the demo can sign in; never reuse them anywhere real.
 */
export interface SeedUser {
  username: string;
  displayName: string;
  password: string;
  phoneNumber: string;
  extension: string;
  pin: string;
}

export const DEMO_USERS: readonly SeedUser[] = [
  { username: 'alice', displayName: 'Alice Adams', password: 'Lab-Alice-2026!', phoneNumber: '+14255550101', extension: '101', pin: '13579' },
  { username: 'bob', displayName: 'Bob Baker', password: 'Lab-Bob-2026!', phoneNumber: '+14255550102', extension: '102', pin: '24680' },
  { username: 'carol', displayName: 'Carol Chen', password: 'Lab-Carol-2026!', phoneNumber: '+14255550103', extension: '103', pin: '97531' },
];

/** NetBIOS domain from a DNS domain: contoso.test → CONTOSO. */
export function netbiosName(domain: string): string {
  return (domain.split('.')[0] ?? domain).toUpperCase().slice(0, 15);
}
