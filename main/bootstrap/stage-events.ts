import type { SerializedTetherError } from '../../common/errors';
import { toTetherError } from '../../common/errors';
import type { StageId } from '../../common/stages';

/**
 * What a bootstrap run reports, stage by stage: the window, the CLI and the journal all consume
 * this one stream. Events carry no secrets (errors' detail never does).
 */
export type StageEvent =
  | { readonly type: 'stage-start'; readonly stage: StageId; readonly at: number }
  | { readonly type: 'stage-progress'; readonly stage: StageId; readonly message: string; readonly fraction?: number }
  | { readonly type: 'stage-end'; readonly stage: StageId; readonly outcome: 'done' | 'skipped'; readonly summary: string; readonly at: number }
  | { readonly type: 'stage-failed'; readonly stage: StageId; readonly error: SerializedTetherError; readonly at: number };

export type StageListener = (event: StageEvent) => void;

export interface StageProgress {
  (message: string, fraction?: number): void;
}

export interface StageOutcome<T> {
  readonly value: T;
  /** One line for people: what the stage found or did. */
  readonly summary: string;
  readonly outcome?: 'done' | 'skipped';
}

/**
 * Runs stages one after another and reports them. A failure inside a stage is re-attributed to
 * that stage (a socket error during stage 6 is a stage-6 error), reported, and rethrown.
 */
export class StageRunner {
  constructor(
    private readonly listener: StageListener,
    private readonly now: () => number = Date.now,
  ) {}

  async run<T>(stage: StageId, work: (progress: StageProgress) => Promise<StageOutcome<T>>): Promise<T> {
    this.listener({ type: 'stage-start', stage, at: this.now() });
    const progress: StageProgress = (message, fraction) =>
      this.listener({ type: 'stage-progress', stage, message, ...(fraction === undefined ? {} : { fraction }) });
    try {
      const result = await work(progress);
      this.listener({ type: 'stage-end', stage, outcome: result.outcome ?? 'done', summary: result.summary, at: this.now() });
      return result.value;
    } catch (err) {
      const typed = toTetherError(err);
      // Errors raised by shared transport code carry no stage (or a generic one); the running stage owns them.
      const owned = typed.stage === stage ? typed : typed.withStage(stage);
      this.listener({ type: 'stage-failed', stage, error: owned.toJSON(), at: this.now() });
      throw owned;
    }
  }
}
