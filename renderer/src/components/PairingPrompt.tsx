import { Body1, Button, makeStyles, tokens } from '@fluentui/react-components';
import type { PairingEvent } from '../../../common/service/contract';
import { formatCode } from '../format';

const useStyles = makeStyles({
  root: { display: 'flex', gap: tokens.spacingHorizontalXL, alignItems: 'center', flexWrap: 'wrap' },
  code: {
    fontSize: '44px',
    lineHeight: '52px',
    fontWeight: tokens.fontWeightSemibold,
    fontFamily: tokens.fontFamilyMonospace,
    letterSpacing: '0.08em',
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalL}`,
    borderRadius: tokens.borderRadiusLarge,
    backgroundColor: tokens.colorNeutralBackground3,
  },
  ask: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS },
});

/** The pairing code, large, beside the question; "No" stops the job before any secret is asked. */
export function PairingPrompt({ pairing, onAnswer }: { readonly pairing: PairingEvent; readonly onAnswer: (matches: boolean) => void }) {
  const styles = useStyles();
  const question = `pairing-question-${pairing.jobId}`;
  return (
    <section className={styles.root} aria-labelledby={question}>
      <div className={styles.code} role="text" aria-label={`Pairing code ${pairing.code.split('').join(' ')}`} data-testid="pairing-code">
        {formatCode(pairing.code)}
      </div>
      <div className={styles.ask}>
        <Body1 id={question}>
          {pairing.reason === 'after-reboot' ? 'The phone restarted. ' : ''}Does your phone show the same code?
        </Body1>
        <div className={styles.actions}>
          <Button appearance="primary" onClick={() => onAnswer(true)}>
            Yes, it matches
          </Button>
          <Button onClick={() => onAnswer(false)}>No</Button>
        </div>
      </div>
    </section>
  );
}
