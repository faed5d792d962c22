import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../lab';
import { main } from '../../../main/cli';
import { parseLabArgs } from '../../../main/cli/commands/lab';
import { readLabEndpoints } from '../../../main/cli/lab-endpoints';
import { captureIO } from '../../main/cli/capture-io';
import { tempDir } from '../support';

let tmp: { dir: string; remove: () => void };
let lab: LabHandle;

beforeAll(async () => {
  tmp = tempDir('tether-lab-view-');
  lab = await startLab({ stateDir: join(tmp.dir, 'lab'), view: 'both', services: [] });
});

afterAll(async () => {
  await lab?.stop();
  tmp?.remove();
});

describe('tether lab --view', () => {
  it('parses the view and the external ports; refuses an unknown view (exit 2)', async () => {
    expect(parseLabArgs(['--view', 'both', '--external-dns-port', '5354', '--external-https-port', '0'])).toMatchObject({
      view: 'both',
      externalDnsPort: 5354,
      externalHttpsPort: 0,
    });
    expect(parseLabArgs([])).not.toHaveProperty('view');
    const t = captureIO();
    expect(await main(['lab', '--view', 'outside'], t)).toBe(2);
    expect(t.err()).toMatch(/--view must be internal, external, both/);
  });

  it('--lab DIR reads the external view from endpoints.json (no secrets in it)', async () => {
    const target = await readLabEndpoints(join(tmp.dir, 'lab'));
    expect(target.external).toEqual({ dns: lab.external!.dnsServer, https: lab.external!.httpsBase });
    expect(target.dns).toBe(lab.dnsServer);
  });
});
