import { join } from 'node:path';
import { tetherDataFolder } from '../../common/data-folder';
import type { SignInPolicy } from '../bootstrap/stages/types';
import { openFleet, type Fleet, type VirtualSpec } from '../device/fleet';
import { Journal } from '../journal';
import { ImageCache } from '../pool/update';
import { createTetherService, type TetherServiceHost } from '../service';
import { resolverFor } from './inputs';
import { readLabEndpoints, type LabTarget } from './lab-endpoints';
import { openVirtualLabFleet } from './virtual-lab';

/**
 * What `tether provision` and `tether jobs --resume` run on: the journal in the data folder, the
 * phones (virtual ones on a running lab's network, or the USB bus), the pool's DNS and trust, and
 * the service over them.
 */

export interface ProvisionWorldOptions {
  /** The data folder (journal, image cache, virtual phones' flash); default the per-user folder. */
  readonly data?: string;
  /** A running `tether lab` (its state folder). */
  readonly lab?: string;
  readonly dns?: string;
  readonly domain?: string;
  /** Virtual phones (on the lab's network); without, the USB bus. */
  readonly virtual?: readonly VirtualSpec[];
}

export interface ProvisionWorld {
  readonly service: TetherServiceHost;
  readonly journal: Journal;
  readonly fleet: Fleet;
  readonly lab: LabTarget | null;
  readonly dataDir: string;
  close(): Promise<void>;
}

export async function openProvisionWorld(options: ProvisionWorldOptions): Promise<ProvisionWorld> {
  const dataDir = options.data ?? tetherDataFolder();
  const lab = options.lab === undefined ? null : await readLabEndpoints(options.lab);
  const journal = await Journal.open({ dir: dataDir });
  let fleet: Fleet | undefined;
  try {
    const virtual = options.virtual ?? [];
    if (virtual.length > 0 && lab) {
      const dnsHost = lab.dns.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      fleet = await openVirtualLabFleet({
        lab: { domain: lab.domain, poolFqdn: lab.poolFqdn, httpsBase: lab.httpsBase, dns: lab.dns, host: dnsHost, vlanId: null },
        phones: virtual,
        // The virtual phones' flash lives beside the journal, so a restarted process finds the same phones.
        storeDir: join(dataDir, 'virtual-phones'),
      });
    } else {
      fleet = await openFleet({ real: true, ...(virtual.length > 0 ? { virtual } : {}) });
    }
    // The command line has one secret per run (TETHER_PIN or one prompt): asking again would only
    // send the same refused PIN towards the account's lockout.
    const once = { credentialAttempts: 1 };
    const policy: Partial<SignInPolicy> = lab
      ? { ...once, rootFingerprints: [lab.rootFingerprint], trustOsStore: false, httpPort: lab.httpPort, httpsPort: lab.httpsPort, domain: options.domain ?? lab.domain }
      : { ...once, ...(options.domain ? { domain: options.domain } : {}) };
    const service = createTetherService({
      devices: fleet.manager,
      journal,
      resolver: resolverFor(options.dns ?? lab?.dns),
      imageCache: new ImageCache(join(dataDir, 'image-cache')),
      catalogue: fleet.catalogue,
      ...(lab ? { osRoots: [] } : {}),
      policy,
      // A virtual phone shows the code on its display: compare as a person would. Real phones: ask.
      autoConfirmPairing: (q) => (fleet!.virtualPhones.some((p) => p.host?.serial === q.serial) ? (q.phoneDisplay ?? '').replace(/\D/g, '').includes(q.code) : undefined),
    });
    const f = fleet;
    return {
      service,
      journal,
      fleet: f,
      lab,
      dataDir,
      async close() {
        await service.close();
        await f.close();
        journal.close();
      },
    };
  } catch (err) {
    await fleet?.close();
    journal.close();
    throw err;
  }
}
