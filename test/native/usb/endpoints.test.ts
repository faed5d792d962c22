import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../common/errors';
import { findTetherInterface, hasTetherInterface } from '../../../native/usb/endpoints';
import { bulk, configuration, FakeDevice, TETHER } from './fake-device';

describe('tether interface matching', () => {
  it('matches by class/subclass/protocol in any configuration or alternate, not by vendor', () => {
    const dev = new FakeDevice([
      configuration(1, [{ number: 0, alternates: [{ class: 3, subclass: 0, protocol: 0, endpoints: [] }] }]),
      configuration(2, [{ number: 1, alternates: [{ class: 3, subclass: 0, protocol: 0, endpoints: [] }, { ...TETHER, endpoints: [] }] }]),
    ]);
    dev.vendorId = 0x1234;
    expect(hasTetherInterface(dev)).toBe(true);
    expect(hasTetherInterface(dev, { class: 255, subclass: 84, protocol: 2 })).toBe(false);
  });

  it('ignores a device that is only vendor-specific with another subclass (e.g. adb ff/42/01)', () => {
    const adb = new FakeDevice([configuration(1, [{ number: 0, alternates: [{ class: 255, subclass: 0x42, protocol: 1, endpoints: [bulk(1, 'in'), bulk(1, 'out')] }] }])]);
    expect(hasTetherInterface(adb)).toBe(false);
    expect(() => findTetherInterface(adb)).toThrowError(TetherError);
  });
});

describe('endpoint discovery from descriptors', () => {
  it('takes odd endpoint numbers and packet sizes as declared', () => {
    const dev = new FakeDevice([
      configuration(1, [
        {
          number: 3,
          alternates: [
            {
              ...TETHER,
              endpoints: [
                { endpointNumber: 1, direction: 'in', type: 'interrupt', packetSize: 8 },
                bulk(7, 'out', 64),
                bulk(13, 'in', 64),
              ],
            },
          ],
        },
      ]),
    ]);
    expect(findTetherInterface(dev)).toEqual({
      configurationValue: 1,
      interfaceNumber: 3,
      alternateSetting: 0,
      in: { endpointNumber: 13, packetSize: 64 },
      out: { endpointNumber: 7, packetSize: 64 },
    });
  });

  it('finds the interface in a non-active configuration and on alternate setting 1', () => {
    const dev = new FakeDevice(
      [
        configuration(1, [{ number: 0, alternates: [{ class: 8, subclass: 6, protocol: 80, endpoints: [bulk(1, 'in'), bulk(2, 'out')] }] }]),
        configuration(2, [{ number: 5, alternates: [{ ...TETHER, endpoints: [] }, { ...TETHER, endpoints: [bulk(9, 'in', 1024), bulk(4, 'out', 1024)] }] }]),
      ],
      1,
    );
    const found = findTetherInterface(dev);
    expect(found).toMatchObject({ configurationValue: 2, interfaceNumber: 5, alternateSetting: 1 });
    expect(found.in.endpointNumber).toBe(9);
    expect(found.out.endpointNumber).toBe(4);
  });

  it('prefers the active configuration when two carry the interface', () => {
    const iface = (ep: number) => [{ number: 0, alternates: [{ ...TETHER, endpoints: [bulk(ep, 'in'), bulk(ep, 'out')] }] }];
    const dev = new FakeDevice([configuration(1, iface(1)), configuration(2, iface(6))], 2);
    expect(findTetherInterface(dev).configurationValue).toBe(2);
  });

  it('says plainly when the interface lacks a bulk pair', () => {
    const dev = new FakeDevice([configuration(1, [{ number: 0, alternates: [{ ...TETHER, endpoints: [bulk(1, 'in')] }] }])]);
    try {
      findTetherInterface(dev);
      expect.unreachable();
    } catch (err) {
      expect(TetherError.is(err, 'USB_NOT_A_PHONE')).toBe(true);
      expect((err as Error).message).toMatch(/bulk IN and one bulk OUT/);
    }
  });
});
