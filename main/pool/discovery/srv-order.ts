/** One SRV answer, as node's resolver returns it. */
export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/** A source of uniform numbers in [0, 1); tests inject a fixed sequence. */
export type RandomSource = () => number;

/**
 * Orders SRV records as RFC 2782 says a client tries them: lowest priority first; within one
 * priority, repeatedly pick a record at random with probability proportional to its weight
 * (weight-0 records first in the running sum, so they are picked only rarely, as the RFC intends).
 */
export function orderSrv<T extends SrvRecord>(records: readonly T[], random: RandomSource = Math.random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const r of records) {
    const group = byPriority.get(r.priority);
    if (group) group.push(r);
    else byPriority.set(r.priority, [r]);
  }
  const out: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const group = byPriority.get(priority)!;
    // The RFC allows any order before the draw; a sorted one makes a given draw reproducible
    // whatever order the DNS server answered in.
    const sorted = [...group].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port));
    const pending = [...sorted.filter((r) => r.weight === 0), ...sorted.filter((r) => r.weight !== 0)];
    while (pending.length > 0) {
      const total = pending.reduce((n, r) => n + r.weight, 0);
      // A uniform integer in [0, total], as the RFC's "between 0 and the sum (inclusive)".
      const pick = Math.min(total, Math.floor(random() * (total + 1)));
      let running = 0;
      let index = pending.length - 1;
      for (let i = 0; i < pending.length; i++) {
        running += pending[i]!.weight;
        if (running >= pick) {
          index = i;
          break;
        }
      }
      out.push(pending.splice(index, 1)[0]!);
    }
  }
  return out;
}
