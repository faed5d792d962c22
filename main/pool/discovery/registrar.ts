import { nodeErrorCode } from '../../../common/pool/node-error-code';
import type { PoolResolver } from '../net/resolver';
import type { DhcpPoolAnswer } from './dhcp-answer';
import { orderSrv, type RandomSource } from './srv-order';

export type Transport = 'tls' | 'tcp';

/** Where a candidate came from, in the words a helpdesk user reads. */
export type CandidateSource = 'dns-srv' | 'dhcp-option-120' | 'dns-a';

export interface RegistrarCandidate {
  /** 1–6: the vendor's Registrar order [S13]; 7–9: the A-record fallbacks of automatic sign-in [S16][S29]. */
  readonly step: number;
  readonly label: string;
  readonly source: CandidateSource;
  /** The DNS name asked, or 'DHCP option 120'. */
  readonly query: string;
  readonly transport: Transport;
  readonly host: string | null;
  readonly port: number | null;
  readonly priority: number | null;
  readonly weight: number | null;
  readonly addresses: string[];
  status: 'chosen' | 'usable' | 'skipped';
  reason: string;
}

export interface RegistrarChoice {
  readonly host: string;
  readonly port: number;
  readonly transport: Transport;
  readonly step: number;
  readonly label: string;
  readonly addresses: string[];
}

/** Checks that a candidate answers (e.g. a TCP connect); throws with a reason when it does not. */
export type ReachabilityProbe = (host: string, port: number) => Promise<void>;

export interface RegistrarSearch {
  readonly domain: string;
  readonly resolver: PoolResolver;
  /** The DHCPINFORM answer, when one was asked for; null = DHCP not consulted. */
  readonly dhcp: DhcpPoolAnswer | null;
  /** Why DHCP gave nothing when it was asked (e.g. no answer), shown on the DHCP steps. */
  readonly dhcpProblem?: string | null;
  readonly random?: RandomSource;
  readonly probe?: ReachabilityProbe;
  /** The steps to walk, in order; default REGISTRAR_STEPS (EXTERNAL_REGISTRAR_STEPS outside). */
  readonly steps?: readonly RegistrarStep[];
}

/** Why a DNS question got no usable answer, in plain words (node's error codes → text). */
export function dnsReason(err: unknown): { reason: string; serverDown: boolean } {
  const code = nodeErrorCode(err);
  switch (code) {
    case 'ENOTFOUND':
      return { reason: 'no such name (NXDOMAIN)', serverDown: false };
    case 'ENODATA':
      return { reason: 'the name exists but has no record of this type', serverDown: false };
    case 'ETIMEOUT':
      return { reason: 'the DNS server did not answer in time', serverDown: true };
    case 'ECONNREFUSED':
      return { reason: 'the DNS server refused the connection', serverDown: true };
    case 'ESERVFAIL':
      return { reason: 'the DNS server failed (SERVFAIL)', serverDown: false };
    case 'EREFUSED':
      return { reason: 'the DNS server refused the query (REFUSED)', serverDown: true };
    default:
      return { reason: err instanceof Error ? err.message : String(err), serverDown: false };
  }
}

export interface RegistrarStep {
  readonly step: number;
  readonly label: string;
  readonly transport: Transport;
  readonly kind: 'srv' | 'dhcp' | 'a';
  readonly name?: (domain: string) => string;
  readonly port?: number;
}

/** The vendor's six steps [S13], then the A-record fallbacks with SIPE's ports [S16][S29]. */
export const REGISTRAR_STEPS: readonly RegistrarStep[] = [
  { step: 1, label: 'internal DNS SRV (TLS)', transport: 'tls', kind: 'srv', name: (d) => `_sipinternaltls._tcp.${d}` },
  { step: 2, label: 'DHCP option 120 (TLS)', transport: 'tls', kind: 'dhcp', port: 5061 },
  { step: 3, label: 'internal DNS SRV (TCP)', transport: 'tcp', kind: 'srv', name: (d) => `_sipinternal._tcp.${d}` },
  { step: 4, label: 'DHCP option 120 (TCP)', transport: 'tcp', kind: 'dhcp', port: 5060 },
  { step: 5, label: 'external DNS SRV (TLS)', transport: 'tls', kind: 'srv', name: (d) => `_sip._tls.${d}` },
  { step: 6, label: 'external DNS SRV (TCP)', transport: 'tcp', kind: 'srv', name: (d) => `_sip._tcp.${d}` },
  { step: 7, label: 'A-record fallback sipinternal', transport: 'tls', kind: 'a', name: (d) => `sipinternal.${d}`, port: 5061 },
  { step: 8, label: 'A-record fallback sip', transport: 'tls', kind: 'a', name: (d) => `sip.${d}`, port: 443 },
  { step: 9, label: 'A-record fallback sipexternal', transport: 'tls', kind: 'a', name: (d) => `sipexternal.${d}`, port: 443 },
];

/**
 * Outside the corporate network: the external steps of the vendor's order (5, 6) [S13], then the
 * external A-record fallbacks in SIPE's order, sipexternal before sip (both port 443) [S29].
 * Step numbers stay those of REGISTRAR_STEPS, so a candidate names the same step everywhere.
 */
export const EXTERNAL_REGISTRAR_STEPS: readonly RegistrarStep[] = [5, 6, 9, 8].map((n) => REGISTRAR_STEPS.find((s) => s.step === n)!);

export interface RegistrarOutcome {
  readonly candidates: RegistrarCandidate[];
  readonly chosen: RegistrarChoice | null;
  /** True when every DNS question failed because the server itself did not answer. */
  readonly dnsDown: boolean;
}

function blank(s: RegistrarStep, query: string, reason: string): RegistrarCandidate {
  return {
    step: s.step,
    label: s.label,
    source: s.kind === 'srv' ? 'dns-srv' : s.kind === 'dhcp' ? 'dhcp-option-120' : 'dns-a',
    query,
    transport: s.transport,
    host: null,
    port: null,
    priority: null,
    weight: null,
    addresses: [],
    status: 'skipped',
    reason,
  };
}

type Target = RegistrarCandidate & { host: string; port: number };

/**
 * Walks every step and lists every candidate with its verdict; the first usable one in order is
 * chosen. All steps are walked even after a choice, so a helpdesk user sees the whole picture.
 * The DNS questions go out in parallel (a silent DNS server costs one timeout, not nine); the
 * RFC 2782 ordering then runs in step order, so an injected random source gives one answer.
 */
export async function findRegistrar(search: RegistrarSearch): Promise<RegistrarOutcome> {
  const { domain, resolver } = search;
  const random = search.random ?? Math.random;
  const steps = search.steps ?? REGISTRAR_STEPS;
  let asked = 0;
  let down = 0;
  const noteFailure = (err: unknown) => {
    const why = dnsReason(err);
    if (why.serverDown) down++;
    return why.reason;
  };

  // 1. Every SRV question at once.
  const srvAnswers = await Promise.all(
    steps.map(async (s) => {
      if (s.kind !== 'srv') return null;
      asked++;
      try {
        return { records: await resolver.resolveSrv(s.name!(domain)), reason: null };
      } catch (err) {
        return { records: [], reason: noteFailure(err) };
      }
    }),
  );

  // 2. Candidates in the vendor's order (synchronous, so the random draws happen in step order).
  const candidates: RegistrarCandidate[] = [];
  const targets: Target[] = [];
  const addTarget = (c: Target) => {
    candidates.push(c);
    targets.push(c);
  };
  steps.forEach((s, i) => {
    if (s.kind === 'srv') {
      const query = s.name!(domain);
      const answer = srvAnswers[i]!;
      if (answer.reason !== null) candidates.push(blank(s, query, `no SRV record: ${answer.reason}`));
      else if (answer.records.length === 0) candidates.push(blank(s, query, 'no SRV record'));
      else {
        for (const r of orderSrv(answer.records, random)) {
          const base = { ...blank(s, query, ''), host: r.name, port: r.port, priority: r.priority, weight: r.weight };
          // RFC 2782: a target of "." means the service is decidedly not available here.
          if (r.name === '' || r.name === '.') candidates.push({ ...base, host: null, reason: 'the SRV target is "." (service not offered)' });
          else addTarget(base);
        }
      }
    } else if (s.kind === 'dhcp') {
      const dhcp = search.dhcp;
      const query = 'DHCP option 120';
      if (dhcp === null) candidates.push(blank(s, query, search.dhcpProblem ? `DHCP gave no answer: ${search.dhcpProblem}` : 'DHCP was not asked (use --dhcp-inform IFACE)'));
      else if (dhcp.option120 === null) candidates.push(blank(s, query, `the DHCP answer from ${dhcp.server} has no option 120`));
      else if (dhcp.option120.names === null) candidates.push(blank(s, query, `option 120 is unusable: ${dhcp.option120.error?.message ?? 'malformed'}`));
      else for (const name of dhcp.option120.names) addTarget({ ...blank(s, query, ''), host: name, port: s.port! });
    } else {
      const host = s.name!(domain);
      addTarget({ ...blank(s, host, ''), host, port: s.port! });
    }
  });

  // 3. Every target's A record (and reachability) at once; verdicts are written in place. When
  // the server answered no SRV question at all, asking it again would only repeat the timeout.
  const serverSilent = asked > 0 && down === asked;
  await Promise.all(
    targets.map(async (c) => {
      if (serverSilent) {
        c.reason = `target ${c.host} not looked up: the DNS server did not answer the SRV questions`;
        return;
      }
      asked++;
      try {
        c.addresses.push(...(await resolver.resolve4(c.host)));
      } catch (err) {
        c.reason = `target ${c.host} has no A record: ${noteFailure(err)}`;
        return;
      }
      if (search.probe) {
        try {
          await search.probe(c.host, c.port);
        } catch (err) {
          c.reason = `${c.host}:${c.port} did not accept a connection: ${err instanceof Error ? err.message : String(err)}`;
          return;
        }
      }
      c.status = 'usable';
      c.reason = search.probe ? 'resolves and accepts a connection' : 'resolves';
    }),
  );

  let chosen: RegistrarChoice | null = null;
  for (const c of candidates) {
    if (c.status !== 'usable') continue;
    if (chosen === null) {
      c.status = 'chosen';
      c.reason = `first usable candidate in the vendor's order (${c.reason})`;
      chosen = { host: c.host!, port: c.port!, transport: c.transport, step: c.step, label: c.label, addresses: c.addresses };
    } else {
      c.reason = `${c.reason}; not needed (an earlier candidate was chosen)`;
    }
  }
  return { candidates, chosen, dnsDown: asked > 0 && down === asked };
}
