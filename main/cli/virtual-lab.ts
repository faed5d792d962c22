import { join } from 'node:path';
import { labDhcpOptions } from '../../lab/dhcp/options';
import type { FaultPlan, LinkSpeed, PhoneNetworkConfig, PhoneStore, RegistrarConnector } from '../../native/virtual';
import { FolderPhoneStore, MemoryPhoneStore } from '../../native/virtual';
import { createSipRegistrarConnector } from '../../native/virtual/phone/sip-registrar';
import { openFleet, type Fleet, type VirtualSpec } from '../device/fleet';

/**
 * Virtual phones whose network is a lab's: the VLAN, a lease naming the lab's DNS and domain, the
 * raw option 43/120 bytes the lab's DHCP hands out, and a stage-9 registrar connection resolved
 * through that DNS. Used with a lab in this process (demo, bench, tests) and with a running
 * `tether lab` (provision --lab).
 */

export interface LabNetwork {
  readonly domain: string;
  readonly poolFqdn: string;
  readonly httpsBase: string;
  /** `host:port` of the lab's DNS server. */
  readonly dns: string;
  /** The address a phone gets (the lab's host). */
  readonly host: string;
  readonly vlanId: number | null;
}

/**
 * Where the virtual phones are: 'office' (the lab's internal DNS) or 'home' (the external view's
 * DNS: only the edge names resolve, as for a phone signing in from outside).
 */
export type PhonePlace = 'office' | 'home';

/**
 * A stage-9 connection that resolves through the DNS of wherever the phone is now: the phone is
 * carried home after its sign-in at the office, keeping its flash (certificate, chain).
 */
export function movableRegistrar(dns: Readonly<Record<PhonePlace, string>>, where: () => PhonePlace): RegistrarConnector {
  const at = { office: createSipRegistrarConnector({ dnsServers: [dns.office], timeoutMs: 10_000 }), home: createSipRegistrarConnector({ dnsServers: [dns.home], timeoutMs: 10_000 }) };
  return (attempt) => at[where()](attempt);
}

export function phoneNetworkOf(lab: LabNetwork, optionBytes?: { option43: Uint8Array; option120: Uint8Array }): { network: PhoneNetworkConfig; registrar: RegistrarConnector } {
  const dhcp = optionBytes ?? labDhcpOptions({ domain: lab.domain, poolFqdn: lab.poolFqdn, httpsBase: lab.httpsBase, vlanId: lab.vlanId, wrong: false });
  const dnsHost = lab.dns.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return {
    network: {
      vlan: lab.vlanId,
      vlanSource: lab.vlanId === null ? null : 'dhcp',
      lease: { address: lab.host, prefixLength: 8, gateway: null, dnsServers: [dnsHost], domain: lab.domain, leaseSeconds: 86_400 },
      option43: dhcp.option43,
      option120: dhcp.option120,
    },
    // The lease names the DNS server without a port; the lab's listens on a free one.
    registrar: createSipRegistrarConnector({ dnsServers: [lab.dns], timeoutMs: 10_000 }),
  };
}

/** `CX600,HP4120` → specs with serials stable per position, so a restarted process finds the same phones. */
export function virtualSpecs(models: readonly string[], speed: LinkSpeed = 'high'): VirtualSpec[] {
  const seen = new Map<string, number>();
  return models.map((model) => {
    const n = (seen.get(model) ?? 0) + 1;
    seen.set(model, n);
    return { model, speed, serial: `${model}-V${String(n).padStart(3, '0')}` };
  });
}

export interface VirtualLabFleetOptions {
  readonly lab: LabNetwork;
  readonly phones: readonly VirtualSpec[];
  /** The phones' flash: a folder (they survive a restart) or memory. */
  readonly storeDir?: string;
  readonly optionBytes?: { option43: Uint8Array; option120: Uint8Array };
  /** Fault knobs per serial (stall, garbage, unplug loops, interface held …). */
  readonly faults?: Readonly<Record<string, FaultPlan>>;
  /** Plug a phone back this long after a fault pulled its cable. */
  readonly replugAfterMs?: number;
  /** This PC's pairing key and remembered phones (phones pair by code once per PC); default once per run. */
  readonly pairingFolder?: string;
  /** The phones' stage-9 connection (default: through the lab's DNS). */
  readonly registrar?: RegistrarConnector;
}

/** A fleet (virtual phones only) on the lab's network. */
export async function openVirtualLabFleet(options: VirtualLabFleetOptions): Promise<Fleet> {
  const store: PhoneStore = options.storeDir ? new FolderPhoneStore(join(options.storeDir)) : new MemoryPhoneStore();
  const { network, registrar: labRegistrar } = phoneNetworkOf(options.lab, options.optionBytes);
  const registrar = options.registrar ?? labRegistrar;
  return openFleet({
    real: false,
    ...(options.pairingFolder ? { pairingFolder: options.pairingFolder } : {}),
    virtual: options.phones.map((p) => (p.serial && options.faults?.[p.serial] ? { ...p, faults: options.faults[p.serial] } : p)),
    virtualPhone: {
      network,
      registrar,
      store,
      ...(options.replugAfterMs === undefined ? {} : { replugAfterMs: options.replugAfterMs }),
    },
  });
}
