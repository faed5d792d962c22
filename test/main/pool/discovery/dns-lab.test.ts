import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type LabHandle } from '../../../../lab';
import { createPoolResolver } from '../../../../main/pool/net/resolver';
import { discoverPool } from '../../../../main/pool/discovery/discover';
import { tempDir } from '../../../lab/support';

describe("discovery against the lab's in-process DNS server", () => {
  let lab: LabHandle;
  let state: { dir: string; remove: () => void };
  beforeAll(async () => {
    state = tempDir('tether-disc-lab-');
    lab = await startLab({ stateDir: state.dir, services: [] });
  });
  afterAll(async () => {
    await lab?.stop();
    state?.remove();
  });

  it('finds the pool by internal TLS SRV, and ucupdates-r2 for Device Update', async () => {
    lab.context.faults.set('srv-missing', false);
    const resolver = createPoolResolver({ server: lab.dnsServer, timeoutMs: 1000, tries: 1 });
    const r = await discoverPool({ domain: lab.endpoints.domain, resolver });
    expect(r.registrar).toMatchObject({ host: lab.endpoints.poolFqdn, port: 5061, transport: 'tls', step: 1, addresses: ['127.0.0.1'] });
    expect(r.webServices).toEqual({ url: `https://${lab.endpoints.poolFqdn}/CertProv/CertProvisioningService.svc`, source: 'derived-from-registrar' });
    expect(r.deviceUpdate).toMatchObject({ fqdn: `ucupdates-r2.${lab.endpoints.domain}`, found: true, addresses: ['127.0.0.1'] });
  });

  it('follows the registrar port the lab publishes', async () => {
    lab.context.dns.setSipPort('tls', 15061);
    try {
      const resolver = createPoolResolver({ server: lab.dnsServer, timeoutMs: 1000, tries: 1 });
      const r = await discoverPool({ domain: lab.endpoints.domain, resolver });
      expect(r.registrar).toMatchObject({ port: 15061, step: 1 });
    } finally {
      lab.context.dns.setSipPort('tls', 5061);
    }
  });

  it("with the 'srv-missing' fault the internal steps skip and external TLS SRV takes over", async () => {
    lab.context.faults.set('srv-missing', true);
    try {
      const resolver = createPoolResolver({ server: lab.dnsServer, timeoutMs: 1000, tries: 1 });
      const r = await discoverPool({ domain: lab.endpoints.domain, resolver });
      expect(r.candidates.find((c) => c.step === 1)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/no SRV record/) });
      expect(r.candidates.find((c) => c.step === 3)).toMatchObject({ status: 'skipped' });
      expect(r.registrar).toMatchObject({ step: 5, host: lab.endpoints.poolFqdn });
    } finally {
      lab.context.faults.set('srv-missing', false);
    }
  });
});
