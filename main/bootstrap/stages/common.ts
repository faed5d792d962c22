import { X509Certificate } from 'node:crypto';
import { TetherError } from '../../../common/errors';
import type { StageProgress } from '../stage-events';
import type { StageContext } from './types';

/** The pool halves report progress as (message, fraction); the job's progress is an object. */
export function progressOf(ctx: StageContext): StageProgress {
  return (message, fraction) => ctx.progress(fraction === undefined ? { message } : { message, fraction });
}

/** The SIP domain: the policy's, else the DNS domain of the phone's lease (stage 2). */
export function domainOf(ctx: StageContext): string {
  const domain = (ctx.policy.domain ?? ctx.facts.ip?.domain ?? '').replace(/\.$/, '').toLowerCase();
  if (domain === '') throw new TetherError('PHONE_NO_DOMAIN', undefined, { stage: 'find-update' });
  return domain;
}

export const derOf = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw);

/** Rejects with CANCELLED when the job's signal fires (between the steps of a stage). */
export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new TetherError('CANCELLED', 'The sign-in was cancelled.');
}
