import { normaliseFingerprint } from '../../pool/chain';
import { obtainChainStage, plural } from '../pool-stages';
import { derOf, progressOf } from './common';
import { caChainOutside } from './external';
import type { StageDefinition } from './types';
import type { PoolStageDefinition } from './pool-types';

/**
 * Stage 6: download, validate and trust the pool's chain; the phone gets the WHOLE chain, root
 * first. The phone replaces its chain on every install, so a half-installed chain (a run stopped
 * in the middle) is simply replaced when the stage runs again.
 */
export const caChainStage: StageDefinition<'ca-chain'> = {
  id: 'ca-chain',
  needs: 'paired phone',
  pool: true,
  async run(ctx) {
    if (ctx.spec.network === 'external') return caChainOutside(ctx);
    const web = ctx.facts.registrar!.webServices.url;
    const got = await obtainChainStage(
      {
        webServicesUrl: web,
        http: ctx.anonymousHttp(),
        resolver: ctx.services.resolver,
        httpPort: ctx.policy.httpPort ?? undefined,
        now: ctx.services.now,
        connectTimeoutMs: ctx.policy.connectTimeoutMs,
        pinnedFingerprints: ctx.policy.rootFingerprints.map(normaliseFingerprint),
        ...(ctx.policy.trustOsStore ? (ctx.services.osRoots ? { osRoots: ctx.services.osRoots } : {}) : { osRoots: [] }),
      },
      progressOf(ctx),
    );
    const rootFirst = [...got.value.pems].reverse().map(derOf);
    ctx.progress({ message: `installing ${plural(rootFirst.length, 'certificate')} on the phone` });
    await (await ctx.phone()).session.call('installCaChain', { certificates: rootFirst });
    return { facts: got.value, summary: `${got.summary}; installed on the phone (${plural(rootFirst.length, 'certificate')})` };
  },
};

/** Stage 6 without a phone: the chain, checked against the pool's TLS certificate, then trusted (or not). */
export const caChainPoolStage: PoolStageDefinition<'chain'> = {
  id: 'ca-chain',
  needs: 'none',
  key: 'chain',
  run: (r, progress) =>
    obtainChainStage(
      {
        webServicesUrl: r.facts.discovery!.webServices.url,
        http: r.anonymous,
        resolver: r.options.resolver,
        httpPort: r.options.httpPort,
        now: r.now,
        connectTimeoutMs: r.connectTimeoutMs,
        pinnedFingerprints: r.pinnedFingerprints,
        fileRoots: r.fileRoots,
        ...(r.options.trust?.osRoots ? { osRoots: r.options.trust.osRoots } : {}),
      },
      progress,
    ),
};
