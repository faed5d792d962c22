import { describe, expect, it } from 'vitest';
import { findExternalRegistrar } from '../../../../main/pool/external';
import { fakeResolver } from '../discovery/fake-resolver';

const D = 'contoso.test';
const srv = (name: string, port: number) => [{ name, port, priority: 0, weight: 0 }];

describe('findExternalRegistrar', () => {
  it('walks _sip._tls, _sip._tcp, sipexternal:443, sip:443 and asks nothing internal', async () => {
    const r = fakeResolver({
      srv: { [`_sip._tls.${D}`]: srv(`sip.${D}`, 443), [`_sip._tcp.${D}`]: srv(`sip.${D}`, 5060) },
      a: { [`sip.${D}`]: ['203.0.113.10'], [`sipexternal.${D}`]: ['203.0.113.11'] },
    });
    const out = await findExternalRegistrar({ domain: D, resolver: r, random: () => 0 });
    expect(out.candidates.map((c) => [c.step, c.query, c.port])).toEqual([
      [5, `_sip._tls.${D}`, 443],
      [6, `_sip._tcp.${D}`, 5060],
      [9, `sipexternal.${D}`, 443],
      [8, `sip.${D}`, 443],
    ]);
    expect(out.chosen).toMatchObject({ host: `sip.${D}`, port: 443, step: 5, transport: 'tls' });
    expect(r.asked.some((q) => /sipinternal|ucupdates|_sipinternal/.test(q))).toBe(false);
  });

  it('falls back to sipexternal.<domain>:443 when there is no external SRV record', async () => {
    const r = fakeResolver({ a: { [`sipexternal.${D}`]: ['203.0.113.11'], [`sip.${D}`]: ['203.0.113.10'] } });
    const out = await findExternalRegistrar({ domain: D, resolver: r });
    expect(out.chosen).toMatchObject({ host: `sipexternal.${D}`, port: 443, step: 9 });
    expect(out.candidates.filter((c) => c.status === 'skipped').map((c) => c.step)).toEqual([5, 6]);
  });
});
