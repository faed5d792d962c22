import { describe, expect, it } from 'vitest';
import { decodeDeviceUpdateRequest, encodeDeviceUpdateRequest, storePath } from '../../../../common/pool/device-update-wire';
import { BUILT_IN_CATALOGUE } from '../../../../native/usb/catalogue';
import { deviceUpdateIdentity } from '../../../../main/pool/update';

describe('Device Update identity from the model catalogue', () => {
  it('every catalogue model gives a valid request and store path', () => {
    for (const model of BUILT_IN_CATALOGUE.models) {
      const id = deviceUpdateIdentity(model, { serial: 'SN123', mac: '00:04:f2:01:02:03', runningVersion: model.firmwareVersion });
      expect(decodeDeviceUpdateRequest(encodeDeviceUpdateRequest(id))).toMatchObject({ vendor: model.vendor, model: model.id, mac: '00-04-F2-01-02-03' });
      expect(storePath(id, model.firmwareVersion)).toBe(`UCPhone/${model.vendor}/${model.id}/${model.hardwareRevision}/${model.locale}/${model.firmwareVersion}/CPE`);
    }
  });
});
