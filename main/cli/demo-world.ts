import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TetherError } from '../../common/errors';
import { startLab, type FaultName, type LabHandle } from '../../lab';
import { importDeviceUpdateImage, testImageChunks } from '../../lab/device-update';
import type { LinkSpeed, VirtualUsbDevice } from '../../native/virtual';
import { createSipRegistrarConnector } from '../../native/virtual/phone/sip-registrar';
import { BUILT_IN_CATALOGUE, findModel, type PhoneModel } from '../../native/usb/catalogue';
import { openFleet, type Fleet } from '../device/fleet';
import { createPoolResolver, type PoolResolver } from '../pool/net/resolver';
import { ImageCache } from '../pool/update';
import { makeTempFolder, sweepStaleTempFolders } from '../temp-folders';

/**
 * The demo's world, in-process: the lab pool, a newer firmware image for the model in its Device
 * Update store, and a virtual phone on a fleet whose network is configured from the lab (the VLAN,
 * the lease with the lab's DNS, and the raw option 43/120 bytes the lab's DHCP hands out), and
 * whose stage-9 connection resolves through that DNS. `tether demo` and its tests use it.
 */

export interface DemoWorldOptions {
  readonly model: string;
  readonly faults?: readonly FaultName[];
  /** Lab state folder; default a temporary folder removed by stop(). */
  readonly stateDir?: string;
  /** Size of the generated firmware image (default 256 KiB). */
  readonly imageBytes?: number;
  readonly speed?: LinkSpeed;
  readonly serial?: string;
  /** False: the phone has no registrar connection, so it never signs in (default true). */
  readonly phoneSignsIn?: boolean;
  /** Lab log lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface DemoWorld {
  readonly lab: LabHandle;
  readonly fleet: Fleet;
  readonly device: VirtualUsbDevice;
  readonly model: PhoneModel;
  readonly serial: string;
  readonly resolver: PoolResolver;
  readonly imageCache: ImageCache;
  /** The firmware version put in Device Update (newer than the phone's). */
  readonly newVersion: string;
  readonly imageBytes: number;
  /** Stops the phone, the fleet and the lab, and removes the temporary folders. Idempotent. */
  stop(): Promise<void>;
}

/** The next version: the last number plus one (4.0.7577.4455 → 4.0.7577.4456). */
export function nextVersion(version: string): string {
  const parts = version.split('.');
  parts[parts.length - 1] = String(Number(parts[parts.length - 1]) + 1);
  return parts.join('.');
}

export async function startDemoWorld(options: DemoWorldOptions): Promise<DemoWorld> {
  const model = findModel(options.model, BUILT_IN_CATALOGUE);
  if (!model) throw new TetherError('BAD_INPUT', `Unknown phone model '${options.model.slice(0, 40)}'; known: ${BUILT_IN_CATALOGUE.models.map((m) => m.id).join(', ')}.`);
  // A demo killed with SIGKILL left its folder (a lab with a CA key) behind: remove those first.
  await sweepStaleTempFolders('demo');
  const temp = await makeTempFolder('demo');
  const stateDir = options.stateDir ?? join(temp, 'lab');
  let lab: LabHandle | undefined;
  let fleet: Fleet | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await fleet?.close().catch(() => undefined);
      await lab?.stop().catch(() => undefined);
      await rm(temp, { recursive: true, force: true });
    })());
  try {
    lab = await startLab({ stateDir, faults: options.faults ?? [], ...(options.log ? { log: options.log } : {}) });
    const imageBytes = options.imageBytes ?? 256 * 1024;
    const newVersion = nextVersion(model.firmwareVersion);
    await importDeviceUpdateImage(lab.context.stateDir, {
      vendor: model.vendor,
      model: model.id,
      revision: model.hardwareRevision,
      locale: model.locale,
      version: newVersion,
      data: testImageChunks(`tether-demo:${model.id}:${newVersion}`, imageBytes),
      approve: true,
    });
    const dhcp = lab.context.dhcpOptions();
    const dnsHost = lab.dnsServer.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    fleet = await openFleet({
      real: false,
      virtual: [{ model: model.id, ...(options.serial ? { serial: options.serial } : {}), speed: options.speed ?? 'high' }],
      virtualPhone: {
        network: {
          vlan: dhcp.vlanId,
          vlanSource: dhcp.vlanId === null ? null : 'dhcp',
          lease: { address: lab.context.host, prefixLength: 8, gateway: null, dnsServers: [dnsHost], domain: lab.context.domain, leaseSeconds: 86_400 },
          option43: dhcp.option43,
          option120: dhcp.option120,
        },
        // The lease names the DNS server without a port; the lab's listens on a free one.
        ...(options.phoneSignsIn === false ? {} : { registrar: createSipRegistrarConnector({ dnsServers: [lab.dnsServer], timeoutMs: 10_000 }) }),
      },
    });
    const device = fleet.virtualPhones[0]!;
    const serial = device.serialNumber ?? device.host!.serial;
    return {
      lab,
      fleet,
      device,
      model,
      serial,
      resolver: createPoolResolver({ server: lab.dnsServer }),
      imageCache: new ImageCache(join(temp, 'image-cache')),
      newVersion,
      imageBytes,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
