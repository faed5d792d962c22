import { afterEach, describe, expect, it } from 'vitest';
import { autoConfirmPairing } from '../../../main/bootstrap/pairing-auto';
import { runPhoneBootstrap, type PairingRequest } from '../../../main/bootstrap/phone-bootstrap';
import { startDemoWorld, type DemoWorld } from '../../../main/cli/demo-world';

const pairing = { sas: '482913' } as PairingRequest['pairing'];

describe('automatic pairing confirmation (the demo without a person)', () => {
  it('confirms a virtual phone whose display shows the code, and refuses one that does not', () => {
    expect(autoConfirmPairing({ source: 'virtual', phoneDisplay: 'Pair with PC\n482 913', pairing })).toEqual({ confirmed: true, reason: 'match' });
    expect(autoConfirmPairing({ source: 'virtual', phoneDisplay: 'Pair with PC\n111 111', pairing })).toEqual({ confirmed: false, reason: 'differ' });
    expect(autoConfirmPairing({ source: 'virtual', phoneDisplay: null, pairing })).toEqual({ confirmed: false, reason: 'differ' });
  });

  it('never confirms a phone that is not virtual, even when its reported display shows the code', () => {
    // A real phone's "display text" is whatever its firmware (or an impostor) reports: only a person may compare.
    expect(autoConfirmPairing({ source: 'usb', phoneDisplay: '482 913', pairing })).toEqual({ confirmed: false, reason: 'not-virtual' });
  });
});

let world: DemoWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

describe('the pairing request names where the phone came from', () => {
  it('is "virtual" for the demo’s phone', async () => {
    world = await startDemoWorld({ model: 'CX600', imageBytes: 16 * 1024, phoneSignsIn: false });
    const seen: PairingRequest[] = [];
    const run = runPhoneBootstrap(
      {
        phones: world.fleet.manager,
        serial: world.serial,
        confirmPairing: async (req) => (seen.push(req), false),
        auth: { kind: 'pin', phoneOrExt: '101', pin: Buffer.from('13579') },
        resolver: world.resolver,
        osRoots: [],
        imageCache: world.imageCache,
      },
      () => undefined,
    );
    await expect(run).rejects.toMatchObject({ code: 'PAIRING_REFUSED' });
    expect(seen.map((r) => r.source)).toEqual(['virtual']);
  }, 30_000);
});
