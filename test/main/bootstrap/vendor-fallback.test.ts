import { describe, expect, it } from 'vitest';
import type { AttachedPhone } from '../../../main/device/attach';
import { checkUpdateStage } from '../../../main/bootstrap/stages/check-update';
import { findUpdateStage } from '../../../main/bootstrap/stages/find-update';
import { policyOf, type JobFacts, type StageContext } from '../../../main/bootstrap/stages/types';
import type { PoolResolver } from '../../../main/pool/net/resolver';
import { BUILT_IN_CATALOGUE } from '../../../native/usb/catalogue';

/**
 * The vendor's fallback: when the Device Update service cannot be found, the job goes on to sign in
 * (stage 3 skipped with the reason, stage 4 not checked now) instead of failing.
 */

const nxdomain: PoolResolver = {
  server: '127.0.0.1:53',
  resolveSrv: () => Promise.reject(Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' })),
  resolve4: () => Promise.reject(Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' })),
  resolve6: () => Promise.reject(Object.assign(new Error('queryAAAA ENOTFOUND'), { code: 'ENOTFOUND' })),
  lookup: () => undefined,
};

function ctx(facts: JobFacts, resolver: PoolResolver = nxdomain): StageContext {
  const phone = { identity: { serial: 'CX600-V001', modelId: 'CX600', firmwareVersion: '4.0.7577.4455' } } as unknown as AttachedPhone;
  const unused = () => {
    throw new Error('not used by this stage');
  };
  return {
    jobId: 'job-00000001',
    spec: { serial: 'CX600-V001', kind: 'pin', user: '101', network: 'internal' },
    facts,
    services: {
      phones: { waitForSerial: unused },
      resolver,
      imageCache: unused as never,
      catalogue: BUILT_IN_CATALOGUE,
      poolSlots: { acquire: unused },
      now: () => new Date(),
      prior: () => ({ signedInInternally: false, internalFacts: null, certificate: null }),
    },
    policy: policyOf(),
    interaction: { confirmPairing: unused, credentials: unused },
    progress: () => undefined,
    signal: new AbortController().signal,
    resumed: false,
    memory: { phone, anonymous: null, pool: null, ticket: null },
    phone: async () => phone,
    phase: () => undefined,
    withoutPoolSlot: unused,
    anonymousHttp: unused,
    poolHttp: unused,
  };
}

describe('Device Update not found', () => {
  it('stage 3 is skipped with the reason and stage 4 says the check waits; nothing fails', async () => {
    const ip = { vlan: null, address: '10.0.0.5', dnsServers: ['10.0.0.53'], domain: 'contoso.test', certProvUrl: null, sipServers: null, optionProblems: [], option43Hex: null, option120Hex: null };
    const three = await findUpdateStage.run(ctx({ ip }));
    expect(three.status).toBe('skipped');
    expect(three.facts).toMatchObject({ found: false, code: 'DNS_NO_DEVICE_UPDATE' });
    expect(three.summary).toMatch(/going on to sign in/);
    const four = await checkUpdateStage.run(ctx({ ip, 'find-update': three.facts }));
    expect(four.status).toBe('skipped');
    expect(four.facts).toMatchObject({ deferred: true, offered: null, pushed: null });
  });

  it('a DNS server that does not answer is still a failure (DNS_UNAVAILABLE), not a fallback', async () => {
    const down: PoolResolver = { ...nxdomain, resolve4: () => Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })) };
    const ip = { vlan: null, address: '10.0.0.5', dnsServers: [], domain: 'contoso.test', certProvUrl: null, sipServers: null, optionProblems: [], option43Hex: null, option120Hex: null };
    await expect(findUpdateStage.run(ctx({ ip }, down))).rejects.toMatchObject({ code: 'DNS_UNAVAILABLE' });
  });
});
