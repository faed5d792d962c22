import type { LookupFunction } from 'node:net';
import type { PoolResolver } from '../../../../main/pool/net/resolver';

/**
 * A PoolResolver whose host lookups come from a table (everything else ENOTFOUND), recording every
 * name asked, so tests prove sockets resolve through the resolver and not the system.
 */
export function fakeResolver(table: Record<string, string>, options: { hang?: boolean } = {}): PoolResolver & { asked: string[] } {
  const asked: string[] = [];
  const lookup: LookupFunction = (hostname, opts, callback) => {
    asked.push(hostname);
    if (options.hang) return;
    const address = table[hostname];
    const all = typeof opts === 'object' && opts !== null && opts.all === true;
    if (address === undefined) {
      callback(Object.assign(new Error(`queryA ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '', 0);
    } else if (all) {
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family: 4 }]);
    } else {
      callback(null, address, 4);
    }
  };
  return {
    server: 'fake',
    asked,
    lookup,
    resolveSrv: () => Promise.resolve([]),
    resolve4: (name) => Promise.resolve(table[name] ? [table[name]] : []),
    resolve6: () => Promise.resolve([]),
  };
}
