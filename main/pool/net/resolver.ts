import { Resolver } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';

/**
 * The DNS seam: every pool lookup (SRV, A, and the host lookups of HTTP/TLS/SIP sockets) goes
 * through one of these, so a helpdesk user can point Tether at a given DNS server and tests can
 * point it at the lab's in-process DNS or at dnsmasq on loopback.
 */
export interface PoolResolver {
  /** `host:port` of the DNS server in use, or null for the system's. */
  readonly server: string | null;
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  /** For `net.connect({ lookup })`, `tls.connect({ lookup })` and `http.Agent`: resolves through this server. */
  readonly lookup: LookupFunction;
}

/** Parses `host:port`, `[v6]:port` or `host` (port 53). */
export function parseDnsServer(spec: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(spec);
  const m = v6 ?? plain;
  const host = m?.[1];
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Not a DNS server address: '${spec}'. Use HOST:PORT, e.g. 127.0.0.1:5353.`);
  }
  return { host, port };
}

export interface ResolverOptions {
  /** `host:port` of the DNS server; omitted = the system's configuration. */
  server?: string;
  /** Per-query timeout in ms (Node's resolver default is long). */
  timeoutMs?: number;
  tries?: number;
}

export function createPoolResolver(options: ResolverOptions = {}): PoolResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
  if (options.server !== undefined) {
    const { host, port } = parseDnsServer(options.server);
    resolver.setServers([isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`]);
  }
  const lookup: LookupFunction = (hostname, opts, callback) => {
    const family = typeof opts === 'object' && opts !== null ? opts.family : undefined;
    const wantAll = typeof opts === 'object' && opts !== null && opts.all === true;
    const literal = isIP(hostname);
    const answer = (addresses: { address: string; family: number }[], failure?: string) => {
      if (addresses.length === 0) {
        // A name that does not exist and a DNS server that did not answer are different problems
        // for the person fixing them: the second keeps getaddrinfo's "try again" code.
        const err =
          failure === undefined
            ? Object.assign(new Error(`queryA ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname })
            : Object.assign(new Error(`DNS lookup of ${hostname} failed: the DNS server ${options.server ?? '(system)'} gave ${failure}`), { code: 'EAI_AGAIN', hostname });
        callback(err, '', 0);
      } else if (wantAll) {
        (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, addresses);
      } else {
        callback(null, addresses[0]!.address, addresses[0]!.family);
      }
    };
    if (literal !== 0) {
      answer([{ address: hostname, family: literal }]);
      return;
    }
    const failures: string[] = [];
    const attempt = (query: Promise<string[]>) =>
      query.catch((err: unknown) => {
        const code = (err as { code?: unknown }).code;
        // NOTFOUND/NODATA are answers; anything else (timeout, refused, SERVFAIL) is a failure.
        if (code !== 'ENOTFOUND' && code !== 'ENODATA') failures.push(typeof code === 'string' ? code : 'an error');
        return [] as string[];
      });
    const v4 = family === 6 ? Promise.resolve([]) : attempt(resolver.resolve4(hostname));
    const v6 = family === 4 ? Promise.resolve([]) : attempt(resolver.resolve6(hostname));
    void Promise.all([v4, v6]).then(([a, aaaa]) =>
      answer([...a.map((address) => ({ address, family: 4 })), ...aaaa.map((address) => ({ address, family: 6 }))], failures[0]),
    );
  };
  return {
    server: options.server ?? null,
    // Node 24's resolver adds `type: 'SRV'` to each record (Node 20 does not): keep the four fields
    // the contract names, so what callers print or compare is the same on every Node.
    resolveSrv: async (name) => (await resolver.resolveSrv(name)).map(({ name: target, port, priority, weight }) => ({ name: target, port, priority, weight })),
    resolve4: (name) => resolver.resolve4(name),
    resolve6: (name) => resolver.resolve6(name),
    lookup,
  };
}
