import { Body1, Button, Caption1, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Subtitle2, tokens } from '@fluentui/react-components';
import { ArrowClockwise20Regular, Copy20Regular, Save20Regular } from '@fluentui/react-icons';
import { useState } from 'react';
import type { Troubleshooting } from '../../../common/service/contract';
import { STAGES } from '../../../common/stages';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  block: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
  cmdlet: {
    display: 'flex',
    gap: tokens.spacingHorizontalS,
    alignItems: 'center',
    backgroundColor: tokens.colorNeutralBackground3,
    borderRadius: tokens.borderRadiusMedium,
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`,
  },
  code: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, overflowWrap: 'anywhere', flexGrow: 1 },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
});

/**
 * What failed, in the words of the contract's troubleshooting entry: what the user sees, what they
 * can do themselves, and what to tell the admin, with the cmdlet to copy.
 */
export function FailureView({
  failure,
  onRetry,
  onSaveDiagnostics,
  copy,
}: {
  readonly failure: Troubleshooting;
  readonly onRetry: () => void;
  readonly onSaveDiagnostics: () => void;
  readonly copy: (text: string) => Promise<void>;
}) {
  const styles = useStyles();
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const stage = failure.stage ? STAGES.find((s) => s.id === failure.stage) : undefined;
  const where = stage ? `Stage ${stage.n}: ${stage.title}` : 'The USB connection to the phone';
  return (
    <section className={styles.root} aria-label="What went wrong" data-testid="failure">
      <MessageBar intent="error" layout="multiline">
        <MessageBarBody>
          <MessageBarTitle>{where}</MessageBarTitle>
          {failure.userSees}
        </MessageBarBody>
      </MessageBar>
      <div className={styles.block}>
        <Subtitle2 as="h3">What you can do</Subtitle2>
        <Body1>{failure.userCan}</Body1>
      </div>
      <div className={styles.block}>
        <Subtitle2 as="h3">What to tell your admin</Subtitle2>
        <Body1>{failure.adminFix}</Body1>
        {failure.cmdlet && (
          <div className={styles.cmdlet}>
            <code className={styles.code} data-testid="cmdlet">
              {failure.cmdlet}
            </code>
            <Button
              size="small"
              icon={<Copy20Regular />}
              aria-label="Copy the command for your admin"
              onClick={() => copy(failure.cmdlet!).then(() => setCopied('yes'), () => setCopied('no'))}
            >
              {copied === 'yes' ? 'Copied' : 'Copy'}
            </Button>
          </div>
        )}
        <Caption1>
          Error code {failure.code}
          {copied === 'no' ? ' · Copying was not allowed; select the command and copy it yourself.' : ''}
        </Caption1>
      </div>
      <div className={styles.actions}>
        <Button appearance="primary" icon={<ArrowClockwise20Regular />} onClick={onRetry}>
          Try again
        </Button>
        <Button icon={<Save20Regular />} onClick={onSaveDiagnostics}>
          Save diagnostics
        </Button>
      </div>
    </section>
  );
}
