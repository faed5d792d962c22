export { deviceUpdateService, deviceUpdateHandlers, UPX_INTERNAL, UPX_EXTERNAL, FILES_INTERNAL, FILES_EXTERNAL } from './service';
export { DeviceUpdateStore, importDeviceUpdateImage, labSignature, type DeviceKind, type ImportImage, type StoredImage, type TestDevice, type UpdateRule, type Selection } from './store';
export { testImage, testImageChunks } from './test-image';
