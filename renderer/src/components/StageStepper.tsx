import { Caption1, makeStyles, mergeClasses, ProgressBar, Spinner, Text, tokens } from '@fluentui/react-components';
import { ArrowCircleRight20Regular, CheckmarkCircle20Filled, CircleHint20Regular, DismissCircle20Filled, SubtractCircle20Regular } from '@fluentui/react-icons';
import type { StageView } from '../../../common/service/contract';
import { STAGES } from '../../../common/stages';
import { formatBytes, formatDuration, formatTimeLeft, percent } from '../format';
import { useMediaQuery } from '../useMediaQuery';

const useStyles = makeStyles({
  list: { listStyleType: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column' },
  item: {
    display: 'grid',
    gridTemplateColumns: '24px 1fr auto',
    columnGap: tokens.spacingHorizontalS,
    paddingBlock: tokens.spacingVerticalXS,
    borderLeft: `2px solid ${tokens.colorNeutralStroke2}`,
    marginLeft: '9px',
    paddingLeft: tokens.spacingHorizontalS,
  },
  active: { borderLeftColor: tokens.colorBrandStroke1 },
  // Fluent's progress bar animates its width; with reduced motion it jumps.
  reduced: { '@media (prefers-reduced-motion: reduce)': { '& *': { transitionDuration: '0s', animationDuration: '0s' } } },
  icon: { display: 'flex', alignItems: 'flex-start', paddingTop: '2px', marginLeft: '-23px', backgroundColor: tokens.colorNeutralBackground1, height: '20px' },
  done: { color: tokens.colorPaletteGreenForeground1 },
  failed: { color: tokens.colorPaletteRedForeground1 },
  muted: { color: tokens.colorNeutralForeground3 },
  running: { color: tokens.colorBrandForeground1 },
  body: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXXS, minWidth: 0, overflowWrap: 'anywhere' },
  progress: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXXS, marginTop: tokens.spacingVerticalXXS },
  time: { color: tokens.colorNeutralForeground3, whiteSpace: 'nowrap' },
});

const STATUS_WORDS: Record<StageView['status'], string> = {
  pending: 'not started',
  started: 'in progress',
  progress: 'in progress',
  done: 'done',
  skipped: 'skipped',
  failed: 'failed',
};

function StageIcon({ status }: { readonly status: StageView['status'] }) {
  const styles = useStyles();
  // A spinning icon is motion: with reduced motion the running stage gets a still arrow instead.
  const still = useMediaQuery('(prefers-reduced-motion: reduce)');
  switch (status) {
    case 'done':
      return <CheckmarkCircle20Filled className={styles.done} />;
    case 'failed':
      return <DismissCircle20Filled className={styles.failed} />;
    case 'skipped':
      return <SubtractCircle20Regular className={styles.muted} />;
    case 'started':
    case 'progress':
      return still ? <ArrowCircleRight20Regular className={styles.running} data-testid="still-running" /> : <Spinner size="extra-tiny" aria-hidden="true" />;
    default:
      return <CircleHint20Regular className={styles.muted} />;
  }
}

function ProgressLine({ stage }: { readonly stage: StageView }) {
  const styles = useStyles();
  const p = stage.progress;
  if (!p) return null;
  const parts: string[] = [];
  if (p.bytes !== undefined && p.totalBytes) parts.push(`${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`);
  if (p.fraction !== undefined) parts.push(percent(p.fraction));
  if (p.etaMs !== undefined) parts.push(formatTimeLeft(p.etaMs));
  const title = STAGES.find((s) => s.id === stage.stage)!.title;
  return (
    <div className={styles.progress}>
      <Caption1>{p.message}</Caption1>
      {p.fraction !== undefined && <ProgressBar value={p.fraction} thickness="large" aria-label={`${title}: ${percent(p.fraction)}`} />}
      {parts.length > 0 && <Caption1 data-testid="progress-figures">{parts.join(' · ')}</Caption1>}
    </div>
  );
}

/** The nine stages, top to bottom, with what each found, how long it took, and live progress. */
export function StageStepper({ stages, now }: { readonly stages: readonly StageView[]; readonly now: number }) {
  const styles = useStyles();
  return (
    <ol className={mergeClasses(styles.list, styles.reduced)} aria-label="Sign-in stages">
      {STAGES.map((def) => {
        const stage = stages.find((s) => s.stage === def.id);
        const status = stage?.status ?? 'pending';
        const active = status === 'started' || status === 'progress';
        const took = stage?.startedAt != null ? (stage.endedAt ?? now) - stage.startedAt : null;
        return (
          <li
            key={def.id}
            className={mergeClasses(styles.item, active && styles.active)}
            aria-current={active ? 'step' : undefined}
            aria-label={`Stage ${def.n}, ${def.title}: ${STATUS_WORDS[status]}`}
            data-stage={def.id}
            data-status={status}
          >
            <span className={styles.icon}>
              <StageIcon status={status} />
            </span>
            <div className={styles.body}>
              <Text weight={active ? 'semibold' : 'regular'} className={status === 'pending' ? styles.muted : undefined}>
                {def.n}. {def.title}
              </Text>
              {stage?.summary && <Caption1 className={styles.muted}>{status === 'skipped' ? `Skipped: ${stage.summary}` : stage.summary}</Caption1>}
              {active && stage && <ProgressLine stage={stage} />}
            </div>
            <Caption1 className={styles.time}>{took !== null && status !== 'skipped' ? formatDuration(took) : ''}</Caption1>
          </li>
        );
      })}
    </ol>
  );
}
