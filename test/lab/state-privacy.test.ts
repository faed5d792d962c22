import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLabStateDir, startLab } from '../../lab';
import { ENDPOINTS_FILE, endpointsForDisk } from '../../lab/endpoints-file';
import { readLabEndpoints } from '../../main/cli/lab-endpoints';
import { tempDir } from './support';

let tmp: { dir: string; remove: () => void };
beforeAll(() => {
  tmp = tempDir('tether-lab-privacy-');
});
afterAll(() => tmp.remove());

/** An endpoints file that would pass every field check, naming an attacker's DNS and fingerprint. */
function plant(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const doc = endpointsForDisk(
    {
      dns: '127.0.0.1:5353',
      domain: 'contoso.test',
      poolFqdn: 'pool01.contoso.test',
      http: 'http://pool01.contoso.test:8080',
      https: 'https://pool01.contoso.test:8443',
      ca: { fingerprint: Array(32).fill('AB').join(':'), rootPem: '/x/root.pem', intermediatePem: '/x/int.pem' },
      users: [],
    } as never,
    process.pid, // alive: the reader would take it for a running lab
    'planted',
    new Date(),
  );
  const file = join(dir, ENDPOINTS_FILE);
  writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
  return file;
}

describe.skipIf(process.platform === 'win32')('the lab state folder and --lab trust only what this user controls', () => {
  it('reads a file in a private folder (the control case)', async () => {
    const dir = join(tmp.dir, 'private');
    plant(dir);
    chmodSync(dir, 0o700);
    await expect(readLabEndpoints(dir)).resolves.toMatchObject({ dns: '127.0.0.1:5353' });
  });

  it('refuses --lab DIR when others can write the folder (e.g. a planted /tmp/lab)', async () => {
    const dir = join(tmp.dir, 'shared');
    plant(dir);
    chmodSync(dir, 0o777);
    await expect(readLabEndpoints(dir)).rejects.toMatchObject({ code: 'FOLDER_NOT_PRIVATE', detail: { reason: 'mode' } });
  });

  it('refuses an endpoints file others can write, even in a private folder', async () => {
    const dir = join(tmp.dir, 'file-open');
    const file = plant(dir);
    chmodSync(dir, 0o700);
    chmodSync(file, 0o666);
    await expect(readLabEndpoints(dir)).rejects.toMatchObject({ code: 'FOLDER_NOT_PRIVATE' });
  });

  it('the lab refuses to start on a state folder others can write', async () => {
    const dir = join(tmp.dir, 'lab-open');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    await expect(startLab({ stateDir: dir, publishEndpoints: false })).rejects.toMatchObject({ code: 'FOLDER_NOT_PRIVATE' });
  });

  it('defaults the lab state to a folder under the user data folder, not a shared or working folder', () => {
    expect(defaultLabStateDir({ XDG_DATA_HOME: '/home/ann/data' }, 'linux', '/home/ann')).toBe('/home/ann/data/tether/lab');
    expect(defaultLabStateDir({}, 'darwin', '/Users/ann')).toBe('/Users/ann/Library/Application Support/Tether/lab');
  });
});
