import { isIP } from 'node:net';
import type { FaultName, LabDnsRecord, LabDnsRecordType } from '../context';
import { externalHostNames, externalSipTarget } from '../external/names';

/** Short TTLs: a fault switched on at run time shows in the next lookup. */
export const DEFAULT_TTL = 5;

export interface ZoneOptions {
  domain: string;
  poolFqdn: string;
  /** Address every lab name points at (the listeners' host). */
  address: string;
  has: (fault: FaultName) => boolean;
  /**
   * Which view of the lab this zone answers (default internal). The external view (what DNS says
   * outside the corporate network) has the edge names only: see lab/external/names.ts.
   */
  view?: 'internal' | 'external';
}

const canon = (name: string) => name.trim().replace(/\.$/, '').toLowerCase();

function sameRecord(a: LabDnsRecord, b: LabDnsRecord): boolean {
  if (a.type !== b.type || canon(a.name) !== canon(b.name)) return false;
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return a.address === (b as typeof a).address;
    case 'SRV':
      return canon(a.target) === canon((b as typeof a).target) && a.port === (b as typeof a).port;
    case 'TXT':
      return a.text === (b as typeof a).text;
  }
}

function checkRecord(r: LabDnsRecord): void {
  const name = canon(r.name);
  if (name.length === 0 || name.length > 253 || name.split('.').some((l) => l.length === 0 || l.length > 63)) {
    throw new RangeError(`Not a DNS name: '${r.name}'`);
  }
  if (r.type === 'A' && isIP(r.address) !== 4) throw new RangeError(`Not an IPv4 address: '${r.address}'`);
  if (r.type === 'AAAA' && isIP(r.address) !== 6) throw new RangeError(`Not an IPv6 address: '${r.address}'`);
  if (r.type === 'SRV' && (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535)) {
    throw new RangeError(`Not a port: ${r.port}`);
  }
  if (r.type === 'TXT' && Buffer.byteLength(r.text) > 255) throw new RangeError('TXT strings are at most 255 bytes.');
}

/**
 * The lab's zone: the pool's SRV and A records ([S16][S17][S19]) plus whatever services add.
 * Faults act on what is *visible*, so switching one off restores the records untouched.
 */
export class LabZone {
  readonly apex: string;
  private readonly records: LabDnsRecord[] = [];
  private readonly hidden: Set<string>;

  constructor(private readonly options: ZoneOptions) {
    this.apex = canon(options.domain);
    const d = this.apex;
    this.hidden = new Set([`_sipinternaltls._tcp.${d}`, `_sipinternal._tcp.${d}`]);
    const a = (name: string) =>
      this.add(isIP(options.address) === 6 ? { name, type: 'AAAA', address: options.address } : { name, type: 'A', address: options.address });
    const external = options.view === 'external';
    // lyncdiscover(internal): the Autodiscover names every Lync 2013 pool publishes; the phone does
    // not look them up (docs/pool/discovery.md), newer clients do first.
    const hosts = external
      ? externalHostNames(d)
      : [options.poolFqdn, `ucupdates-r2.${d}`, `sipinternal.${d}`, `sip.${d}`, `sipexternal.${d}`, `lyncdiscover.${d}`, `lyncdiscoverinternal.${d}`];
    for (const host of [...hosts, `ns1.${d}`]) {
      a(host);
    }
    this.setSipPort('tls', 5061);
    this.setSipPort('tcp', 5060);
  }

  add(record: LabDnsRecord): void {
    checkRecord(record);
    if (this.records.some((r) => sameRecord(r, record))) return;
    this.records.push({ ...record, name: canon(record.name) });
  }

  remove(name: string, type?: LabDnsRecordType): void {
    const n = canon(name);
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i]!;
      if (r.name === n && (type === undefined || r.type === type)) this.records.splice(i, 1);
    }
  }

  setSipPort(transport: 'tls' | 'tcp', port: number): void {
    const d = this.apex;
    // Outside, only the external records exist and they name the edge [S16][S17].
    const external = this.options.view === 'external';
    const names = transport === 'tls' ? [`_sipinternaltls._tcp.${d}`, `_sip._tls.${d}`] : [`_sipinternal._tcp.${d}`, `_sip._tcp.${d}`];
    for (const name of external ? names.slice(1) : names) {
      this.remove(name, 'SRV');
      this.add({ name, type: 'SRV', target: external ? externalSipTarget(d) : this.options.poolFqdn, port, priority: 0, weight: 0 });
    }
  }

  /** Records at `name` as answered now (faults applied). */
  lookup(name: string, type?: LabDnsRecordType): LabDnsRecord[] {
    const n = canon(name);
    if (!this.visible(n)) return [];
    return this.records.filter((r) => r.name === n && (type === undefined || r.type === type));
  }

  /** True when the name owns records or has descendants that do (an empty non-terminal). */
  exists(name: string): boolean {
    const n = canon(name);
    if (n === this.apex) return true;
    return this.records.some((r) => this.visible(r.name) && (r.name === n || r.name.endsWith(`.${n}`)));
  }

  /** Whether the server is authoritative for `name`: inside the domain, or a name a service added. */
  covers(name: string): boolean {
    const n = canon(name);
    return n === this.apex || n.endsWith(`.${this.apex}`) || this.records.some((r) => r.name === n);
  }

  private visible(name: string): boolean {
    return !(this.options.has('srv-missing') && this.hidden.has(name));
  }
}
