import type { StageId } from '../../../common/stages';
import type { PhoneModel } from '../../../native/usb/catalogue';
import type { IssuedWebTicket } from '../../pool/auth/webticket';
import type { PoolHttpClient } from '../../pool/net/http';
import type { PoolBootstrapOptions, PoolBootstrapResult } from '../pool-bootstrap';
import type { StageOutcome, StageProgress } from '../stage-events';
import type { ThrowawayKey } from '../throwaway-key';

/** A locally administered MAC ("TETHER" in ASCII, with the local bit set) and a serial that says what it is. */
export const STAND_IN_MAC = '02-45-54-48-45-52';
export const STAND_IN_SERIAL = 'TETHER-TEST-BOOTSTRAP';

/**
 * The pool half of a stage, run without a phone (`tether test-bootstrap`): the same stage file as
 * the phone half, with a throw-away key standing in for the phone's. Facts are the fields of
 * PoolBootstrapResult filled so far.
 */
export interface PoolRun {
  readonly options: PoolBootstrapOptions;
  readonly domain: string;
  readonly model: PhoneModel;
  readonly pinnedFingerprints: readonly string[];
  readonly fileRoots: ReadonlySet<string>;
  readonly explicitDeviceUpdate: URL | null;
  readonly connectTimeoutMs: number;
  readonly now: () => Date;
  readonly facts: { -readonly [K in keyof PoolBootstrapResult]?: PoolBootstrapResult[K] };
  /** Anonymous HTTP (stages 3–6). */
  readonly anonymous: PoolHttpClient;
  /** HTTP trusting the stage-6 chain only (stages 7–8), made once. */
  pool(): PoolHttpClient;
  ticket: IssuedWebTicket | undefined;
  key: ThrowawayKey | undefined;
}

export interface PoolStageDefinition<K extends keyof PoolBootstrapResult = keyof PoolBootstrapResult> {
  readonly id: StageId;
  readonly needs: 'none';
  /** Where its value goes in the result. */
  readonly key: K;
  /** False: the stage does not run (stage 9 without --register). */
  readonly when?: (run: PoolRun) => boolean;
  run(run: PoolRun, progress: StageProgress): Promise<StageOutcome<NonNullable<PoolBootstrapResult[K]>>>;
}
