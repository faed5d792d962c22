import type { StageId } from '../../../common/stages';
import { authPoolStage, authStage } from './auth';
import { caChainPoolStage, caChainStage } from './ca-chain';
import { certificatePoolStage, certificateStage } from './certificate';
import { checkUpdatePoolStage, checkUpdateStage } from './check-update';
import { findUpdatePoolStage, findUpdateStage } from './find-update';
import { ipStage } from './ip';
import { logonPoolStage, logonStage } from './logon';
import type { PoolStageDefinition } from './pool-types';
import { registrarPoolStage, registrarStage } from './registrar';
import type { StageDefinition } from './types';
import { vlanStage } from './vlan';

/** The nine stages with a phone, in the vendor's order (common/stages.ts). */
export const PHONE_STAGES: readonly StageDefinition[] = [
  vlanStage,
  ipStage,
  findUpdateStage,
  checkUpdateStage,
  registrarStage,
  caChainStage,
  authStage,
  certificateStage,
  logonStage,
] as readonly StageDefinition<StageId>[] as readonly StageDefinition[];

/**
 * The pool halves of stages 3–9, run without a phone by `tether test-bootstrap` (a throw-away key
 * stands in for the phone's): the same stage files, side by side with the phone halves.
 */
export const POOL_STAGES: readonly PoolStageDefinition[] = [
  findUpdatePoolStage,
  checkUpdatePoolStage,
  registrarPoolStage,
  caChainPoolStage,
  authPoolStage,
  certificatePoolStage,
  logonPoolStage,
] as readonly unknown[] as readonly PoolStageDefinition[];

export { registrationError } from './logon';
export type { PoolRun, PoolStageDefinition } from './pool-types';
export * from './types';
