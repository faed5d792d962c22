import type { PoolResolver } from '../../../../main/pool/net/resolver';

/** An in-memory PoolResolver for pure tests: names → SRV/A answers, or a DNS error code. */
export function fakeResolver(zone: {
  srv?: Record<string, { name: string; port: number; priority: number; weight: number }[]>;
  a?: Record<string, string[]>;
  down?: boolean;
}): PoolResolver & { asked: string[] } {
  const asked: string[] = [];
  const fail = (code: string) => Promise.reject(Object.assign(new Error(code), { code }));
  return {
    server: 'fake:53',
    asked,
    resolveSrv: (name) => {
      asked.push(`SRV ${name}`);
      if (zone.down) return fail('ETIMEOUT');
      const r = zone.srv?.[name];
      return r ? Promise.resolve(r) : fail('ENOTFOUND');
    },
    resolve4: (name) => {
      asked.push(`A ${name}`);
      if (zone.down) return fail('ETIMEOUT');
      const r = zone.a?.[name];
      return r ? Promise.resolve(r) : fail('ENOTFOUND');
    },
    resolve6: () => fail('ENODATA'),
    lookup: () => {
      throw new Error('not used');
    },
  };
}
