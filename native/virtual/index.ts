/**
 * The virtual phone: a W3C WebUSB `USBDevice` that behaves like a tethered Lync phone (docs/virtual-phone.md).
 *
 *   const device = await createVirtualPhone({ model: 'CX600', serial: 'CX600-0001', speed: 'high' });
 *   const link = await openTetherLink(device);          // native/usb, as with real hardware
 *   device.host?.unplug(); device.host?.plug();         // cable; device.host?.reboot()
 */
export { createVirtualPhone, VirtualPhoneHost } from './create';
export type { BootState, CreateVirtualPhoneOptions, HotplugSink } from './create';
export { VirtualUsbDevice } from './usb-device';
export { RealClock, VirtualClock } from './clock';
export type { Clock } from './clock';
export { linkModel, BusTimeline, packetsFor } from './link-model';
export type { LinkModel, LinkSpeed } from './link-model';
export { VirtualFaults } from './faults';
export type { FaultPlan, FrameCorruption, FrameTruncation, OperationRefusal, Direction } from './faults';
export { VIRTUAL_VENDOR_ID, virtualProductId } from './descriptors';
export { VirtualPhone, sipUriOf } from './phone/phone';
export type { PhoneNetworkConfig, RegistrarConnector, RegistrationAttempt, RegistrationResult } from './phone/phone';
export { FirmwareSlots, factoryFirmware } from './phone/firmware';
export { MemoryPhoneStore, FolderPhoneStore } from './phone/store';
export type { PhoneStore, PhoneKeyVault, PersistedPhone } from './phone/store';
export { verifyCaChain, verifyIssuedCertificate, makeCsr, makeRsaKeyPair } from './phone/pki';
export { macForSerial, identityOf } from './phone/identity';
