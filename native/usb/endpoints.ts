import { TetherError } from '../../common/errors';
import { BUILT_IN_CATALOGUE, type InterfaceTriple } from './catalogue';

/** One bulk endpoint as its descriptor states it. */
export interface BulkEndpoint {
  readonly endpointNumber: number;
  readonly packetSize: number;
}

/** Where the tether protocol lives on a device, read from its descriptors. */
export interface TetherInterface {
  readonly configurationValue: number;
  readonly interfaceNumber: number;
  readonly alternateSetting: number;
  readonly in: BulkEndpoint;
  readonly out: BulkEndpoint;
}

/** The descriptor part of a W3C USBDevice; enough to match and to find endpoints. */
export type DescribedDevice = Pick<USBDevice, 'configurations' | 'configuration'>;

function isTether(alt: USBAlternateInterface, triple: InterfaceTriple): boolean {
  return alt.interfaceClass === triple.class && alt.interfaceSubclass === triple.subclass && alt.interfaceProtocol === triple.protocol;
}

/** Configurations in the order to try: the active one first (no set-configuration needed). */
function configurationsInOrder(device: DescribedDevice): USBConfiguration[] {
  const active = device.configuration;
  const rest = device.configurations.filter((c) => c.configurationValue !== active?.configurationValue);
  return active ? [active, ...rest] : rest;
}

/**
 * True when any alternate setting of any configuration carries the tether interface triple.
 * Like adb, the interface (not the vendor ID) says a device speaks our protocol.
 */
export function hasTetherInterface(device: DescribedDevice, triple: InterfaceTriple = BUILT_IN_CATALOGUE.tetherInterface): boolean {
  return device.configurations.some((c) => c.interfaces.some((i) => i.alternates.some((a) => isTether(a, triple))));
}

/**
 * Finds the tether interface and its bulk IN and OUT endpoints from the descriptors: endpoint
 * numbers and packet sizes are whatever the device declares, never assumed.
 */
export function findTetherInterface(device: DescribedDevice, triple: InterfaceTriple = BUILT_IN_CATALOGUE.tetherInterface): TetherInterface {
  let sawTriple = false;
  for (const config of configurationsInOrder(device)) {
    for (const iface of config.interfaces) {
      for (const alt of iface.alternates) {
        if (!isTether(alt, triple)) continue;
        sawTriple = true;
        const bulkIn = alt.endpoints.find((e) => e.type === 'bulk' && e.direction === 'in');
        const bulkOut = alt.endpoints.find((e) => e.type === 'bulk' && e.direction === 'out');
        if (!bulkIn || !bulkOut || bulkIn.packetSize <= 0 || bulkOut.packetSize <= 0) continue;
        return {
          configurationValue: config.configurationValue,
          interfaceNumber: iface.interfaceNumber,
          alternateSetting: alt.alternateSetting,
          in: { endpointNumber: bulkIn.endpointNumber, packetSize: bulkIn.packetSize },
          out: { endpointNumber: bulkOut.endpointNumber, packetSize: bulkOut.packetSize },
        };
      }
    }
  }
  throw new TetherError(
    'USB_NOT_A_PHONE',
    sawTriple
      ? 'The device offers the tether interface but without one bulk IN and one bulk OUT endpoint.'
      : undefined,
    { detail: { interfaceClass: triple.class, interfaceSubclass: triple.subclass, interfaceProtocol: triple.protocol } },
  );
}
