import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TetherError } from '../../common/errors';
import { startLab, type FaultName, type LabHandle } from '../../lab';
import { createRegistrarService } from '../../lab/registrar/service';
import { LAB_SERVICES } from '../../lab/services';
import { importDeviceUpdateImage, testImageChunks } from '../../lab/device-update';
import type { FaultPlan } from '../../native/virtual';
import { BUILT_IN_CATALOGUE, findModel } from '../../native/usb/catalogue';
import type { SignInPolicy } from '../bootstrap/stages/types';
import type { Fleet, VirtualSpec } from '../device/fleet';
import type { PoolHttpClient, PoolHttpOptions } from '../pool/net/http';
import { createPoolResolver } from '../pool/net/resolver';
import { ImageCache } from '../pool/update';
import type { JournalPort } from '../service/journal-port';
import { MemoryJournal } from '../service/memory-journal';
import { createTetherService, type TetherServiceHost } from '../service/service';
import { makeTempFolder, sweepStaleTempFolders } from '../temp-folders';
import { movableRegistrar, openVirtualLabFleet, virtualSpecs, type PhonePlace } from './virtual-lab';
import { virtualPhonePairing } from '../bootstrap/pairing-auto';

/**
 * The whole product in one process, for a front end with no phone and no pool: the lab pool, newer
 * firmware in its Device Update for some models, virtual phones on the lab's network, and the
 * service driving them. `npm start`, the bench, the tests and the browser host's demo mode use it
 * (only main/cli may import lab/, so this is where the lab and the service meet).
 */

/** The next version: the last number plus one (4.0.7577.4455 → 4.0.7577.4456). */
export function nextVersion(version: string): string {
  const parts = version.split('.');
  parts[parts.length - 1] = String(Number(parts[parts.length - 1]) + 1);
  return parts.join('.');
}

export interface DemoServiceOptions {
  /** One virtual phone per entry (serials MODEL-V001, MODEL-V002 … unless `phones` is given). */
  readonly models?: readonly string[];
  readonly phones?: readonly VirtualSpec[];
  /** Models that get a newer firmware image in Device Update (default: none). */
  readonly updateModels?: readonly string[];
  /** Size of each generated image (default 256 KiB). */
  readonly imageBytes?: number;
  readonly labFaults?: readonly FaultName[];
  /** Fault knobs per phone serial. */
  readonly phoneFaults?: Readonly<Record<string, FaultPlan>>;
  readonly replugAfterMs?: number;
  /** Lab state (default a temporary folder, removed by stop()). */
  readonly labDir?: string;
  /**
   * Fixed lab ports (default free ones): a process that restarts the lab on the same state folder
   * keeps the pool where the saved jobs found it (the kill test).
   */
  readonly labPorts?: { readonly http: number; readonly https: number; readonly dns: number; readonly registrar: number };
  /** Virtual phones' flash (default memory). */
  readonly phoneStoreDir?: string;
  /** Default an in-memory journal. */
  readonly journal?: JournalPort;
  readonly policy?: Partial<SignInPolicy>;
  readonly poolConcurrency?: number;
  readonly maxJobs?: number;
  readonly progressIntervalMs?: number;
  readonly createHttp?: (options: PoolHttpOptions) => PoolHttpClient;
  readonly httpOptions?: Omit<PoolHttpOptions, 'resolver' | 'extraCaPems'>;
  /** Confirm pairing codes the virtual phone's display shows (default true; false: the front end answers). */
  readonly autoConfirmPairing?: boolean;
  /**
   * 'both': the lab serves its external view too, the service gets the external DNS for external
   * sign-ins, and the phones can be carried home (`moveTo`). Default 'internal'.
   */
  readonly view?: 'internal' | 'both';
}

export interface DemoService {
  readonly service: TetherServiceHost;
  readonly lab: LabHandle;
  readonly fleet: Fleet;
  readonly serials: readonly string[];
  /** The lab's demo users (PINs and passwords are lab data, for the demo only). */
  readonly users: LabHandle['endpoints']['users'];
  /** Policy the jobs use (lab root pinned, lab ports). */
  readonly policy: Partial<SignInPolicy>;
  /**
   * Carries the phones to the office (the lab's internal DNS) or home (the external view's DNS
   * only; view 'both'). They start at the office.
   */
  moveTo(place: PhonePlace): void;
  stop(): Promise<void>;
}

export async function startDemoService(options: DemoServiceOptions): Promise<DemoService> {
  const specs = options.phones ?? virtualSpecs(options.models ?? ['CX600']);
  for (const s of specs) {
    if (!findModel(s.model, BUILT_IN_CATALOGUE)) throw new TetherError('BAD_INPUT', `Unknown phone model '${s.model.slice(0, 40)}'; known: ${BUILT_IN_CATALOGUE.models.map((m) => m.id).join(', ')}.`);
  }
  // A demo killed with SIGKILL left its folder (a lab with a CA key) behind: remove those first.
  await sweepStaleTempFolders('demo');
  const temp = await makeTempFolder('demo');
  let lab: LabHandle | undefined;
  let fleet: Fleet | undefined;
  let service: TetherServiceHost | undefined;
  let place: PhonePlace = 'office';
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await service?.close().catch(() => undefined);
      await fleet?.close().catch(() => undefined);
      await lab?.stop().catch(() => undefined);
      await rm(temp, { recursive: true, force: true });
    })());
  try {
    const ports = options.labPorts;
    lab = await startLab({
      stateDir: options.labDir ?? join(temp, 'lab'),
      faults: options.labFaults ?? [],
      publishEndpoints: options.labDir !== undefined,
      ...(options.view === 'both' ? { view: 'both' as const } : {}),
      ...(ports
        ? {
            httpPort: ports.http,
            httpsPort: ports.https,
            dnsPort: ports.dns,
            services: LAB_SERVICES.map((s) => (s.name === 'registrar' ? createRegistrarService({ port: ports.registrar }) : s)),
          }
        : {}),
    });
    for (const id of new Set(options.updateModels ?? [])) {
      const model = findModel(id, BUILT_IN_CATALOGUE)!;
      const version = nextVersion(model.firmwareVersion);
      await importDeviceUpdateImage(lab.context.stateDir, {
        vendor: model.vendor,
        model: model.id,
        revision: model.hardwareRevision,
        locale: model.locale,
        version,
        data: testImageChunks(`tether-demo:${model.id}:${version}`, options.imageBytes ?? 256 * 1024),
        approve: true,
      });
    }
    const dhcp = lab.context.dhcpOptions();
    const external = lab.external;
    fleet = await openVirtualLabFleet({
      ...(external ? { registrar: movableRegistrar({ office: lab.dnsServer, home: external.dnsServer }, () => place) } : {}),
      lab: { domain: lab.context.domain, poolFqdn: lab.endpoints.poolFqdn, httpsBase: lab.context.httpsBase, dns: lab.dnsServer, host: lab.context.host, vlanId: dhcp.vlanId },
      optionBytes: { option43: dhcp.option43, option120: dhcp.option120 },
      phones: specs,
      ...(options.phoneStoreDir ? { storeDir: options.phoneStoreDir } : {}),
      ...(options.phoneFaults ? { faults: options.phoneFaults } : {}),
      ...(options.replugAfterMs === undefined ? {} : { replugAfterMs: options.replugAfterMs }),
    });
    const policy: Partial<SignInPolicy> = {
      rootFingerprints: [lab.ca.rootFingerprint],
      trustOsStore: false,
      httpPort: lab.httpPort,
      httpsPort: lab.httpsPort,
      reattachTimeoutMs: 30_000,
      registrationTimeoutMs: 20_000,
      ...options.policy,
    };
    service = createTetherService({
      devices: fleet.manager,
      journal: options.journal ?? new MemoryJournal(),
      resolver: createPoolResolver({ server: lab.dnsServer }),
      ...(external ? { externalResolver: createPoolResolver({ server: external.dnsServer }) } : {}),
      imageCache: new ImageCache(join(temp, 'image-cache')),
      catalogue: fleet.catalogue,
      osRoots: [],
      policy,
      ...(options.httpOptions ? { httpOptions: options.httpOptions } : {}),
      ...(options.createHttp ? { createHttp: options.createHttp } : {}),
      ...(options.poolConcurrency ? { poolConcurrency: options.poolConcurrency } : {}),
      ...(options.maxJobs ? { maxJobs: options.maxJobs } : {}),
      ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
      // A virtual phone shows the code on its display; comparing the two is what the person would do.
      ...(options.autoConfirmPairing === false ? {} : { autoConfirmPairing: virtualPhonePairing }),
    });
    const moveTo = (to: PhonePlace): void => {
      if (to === 'home' && !external) throw new TetherError('BAD_INPUT', "The phones can go home only when the lab serves its external view (view 'both').");
      place = to;
    };
    return { service, lab, fleet, serials: specs.map((s) => s.serial!), users: lab.endpoints.users, policy, moveTo, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
