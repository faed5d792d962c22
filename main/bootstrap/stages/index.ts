import type { StageId } from '../../../common/stages';
import { authStage } from './auth';
import { caChainStage } from './ca-chain';
import { certificateStage } from './certificate';
import { checkUpdateStage } from './check-update';
import { findUpdateStage } from './find-update';
import { ipStage } from './ip';
import { logonStage } from './logon';
import { registrarStage } from './registrar';
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

export { registrationError } from './logon';
export * from './types';
