import { join } from 'node:path';
import { tetherDataFolder } from '../../common/data-folder';
import type { SignInPolicy } from '../bootstrap/stages/types';
import { openFleet, type Fleet, type VirtualSpec } from '../device/fleet';
import { Journal } from '../journal';
import { ImageCache } from '../pool/update';
import { createTetherService, type TetherServiceHost } from '../service';
import { resolverFor } from './inputs';
import { readLabEndpoints, type LabTarget } from './lab-endpoints';
import { usageError } from './io';
import { movableRegistrar, openVirtualLabFleet } from './virtual-lab';
import { virtualPhonePairing } from '../bootstrap/pairing-auto';

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
  /**
   * Sign in from outside the corporate network: the external DNS (the lab's external view, or
   * `dns`) is what the jobs and the virtual phones ask (docs/pool/external.md).
   */
  readonly external?: boolean;
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
  if (options.external && lab && !lab.external) {
    throw usageError(`The lab at ${lab.file} serves no external view; start it with \`npx tether lab --view both\` to sign in from outside.`);
  }
  // The DNS as seen from outside: the lab's external view, or the one given when signing in from outside.
  const externalDns = lab ? lab.external?.dns : options.external ? options.dns : undefined;
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
        pairingFolder: join(dataDir, 'pairing'),
        // Signing in from outside, the phones are at home: their DNS is the external view's.
        ...(lab.external ? { registrar: movableRegistrar({ office: lab.dns, home: lab.external.dns }, () => (options.external ? 'home' : 'office')) } : {}),
      });
    } else {
      // Pair once per PC: this PC's key and the phones it paired with live in the data folder.
      fleet = await openFleet({ real: true, pairingFolder: join(dataDir, 'pairing'), ...(virtual.length > 0 ? { virtual } : {}) });
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
      ...(externalDns ? { externalResolver: resolverFor(externalDns) } : {}),
      imageCache: new ImageCache(join(dataDir, 'image-cache')),
      catalogue: fleet.catalogue,
      ...(lab ? { osRoots: [] } : {}),
      policy,
      // A virtual phone shows the code on its display: compare as a person would. Real phones: ask.
      autoConfirmPairing: virtualPhonePairing,
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
