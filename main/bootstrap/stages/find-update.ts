import { toTetherError } from '../../../common/errors';
import { findDeviceUpdateStage } from '../pool-stages';
import { domainOf, progressOf } from './common';
import { findUpdateOutside } from './external';
import type { StageDefinition } from './types';
import type { PoolStageDefinition } from './pool-types';

/** Device Update not found: the vendor's fallback goes on to sign in (the phone checks after in-band provisioning). */
const FALLBACK = new Set(['DNS_NO_DEVICE_UPDATE', 'UPDATE_SERVICE_UNREACHABLE']);

/** Stage 3: ucupdates-r2.<domain> (A record) [S16][S19]; reachable over HTTP. Outside: external.ts. */
export const findUpdateStage: StageDefinition<'find-update'> = {
  id: 'find-update',
  needs: 'none',
  pool: true,
  async run(ctx) {
    if (ctx.spec.network === 'external') return findUpdateOutside(ctx);
    const domain = domainOf(ctx);
    try {
      const out = await findDeviceUpdateStage(
        { domain, resolver: ctx.services.resolver, explicitUrl: null, httpPort: ctx.policy.httpPort ?? undefined, connectTimeoutMs: ctx.policy.connectTimeoutMs },
        progressOf(ctx),
      );
      return { facts: { found: true, ...out.value }, summary: out.summary };
    } catch (err) {
      const e = toTetherError(err);
      if (!FALLBACK.has(e.code)) throw e;
      return {
        facts: { found: false, code: e.code, reason: e.message },
        status: 'skipped',
        summary: `Device Update not found (${e.code}: ${e.message}); going on to sign in, the phone checks for updates with the in-band address afterwards`,
      };
    }
  },
};

/** Stage 3 without a phone: ucupdates-r2.<domain>, or the URL from in-band provisioning. */
export const findUpdatePoolStage: PoolStageDefinition<'deviceUpdate'> = {
  id: 'find-update',
  needs: 'none',
  key: 'deviceUpdate',
  run: (r, progress) =>
    findDeviceUpdateStage({ domain: r.domain, resolver: r.options.resolver, explicitUrl: r.explicitDeviceUpdate, httpPort: r.options.httpPort, connectTimeoutMs: r.connectTimeoutMs }, progress),
};
