import { Button, Card, Divider, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, tokens } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { JobView, PhoneInfo, SignInSpec, TetherService } from '../../../common/service/contract';
import { STAGES } from '../../../common/stages';
import { isFinal, jobForPhone, type WindowAction, type WindowState } from '../state';
import { CredentialsPrompt } from './CredentialsPrompt';
import { FailureView } from './FailureView';
import { PairingPrompt } from './PairingPrompt';
import { PhoneHeader } from './PhoneHeader';
import { SignInForm } from './SignInForm';
import { StageStepper } from './StageStepper';

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, padding: tokens.spacingHorizontalL },
  row: { display: 'flex', gap: tokens.spacingHorizontalS },
  hidden: { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap' },
});

export interface PanelActions {
  readonly service: TetherService;
  readonly dispatch: (a: WindowAction) => void;
  readonly copy: (text: string) => Promise<void>;
  readonly save: (name: string, text: string) => void;
}

/** One line a screen reader announces when the job moves on. */
function announcement(job: JobView | null): string {
  if (!job) return '';
  if (job.state === 'signed-in') return 'Signed in.';
  if (job.state === 'failed') return 'Sign-in failed.';
  const active = job.stages.find((s) => s.status === 'started' || s.status === 'progress');
  return active ? `Stage ${STAGES.find((s) => s.id === active.stage)!.n}: ${STAGES.find((s) => s.id === active.stage)!.title}` : '';
}

function useNow(running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}

export function PhonePanel({ phone, state, actions }: { readonly phone: PhoneInfo; readonly state: WindowState; readonly actions: PanelActions }) {
  const styles = useStyles();
  const { service, dispatch } = actions;
  const job = jobForPhone(state, phone);
  const pairing = job ? state.pairing[job.jobId] : undefined;
  const credentials = job ? state.credentials[job.jobId] : undefined;
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const running = job !== null && !isFinal(job);
  const now = useNow(running);

  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    setBusy(true);
    try {
      await fn();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const start = (spec: SignInSpec) => act(async () => {
    const { jobId } = await service.startSignIn(spec);
    const [view] = (await service.jobs({})).filter((j) => j.jobId === jobId);
    if (view) dispatch({ type: 'job', job: view });
  });
  const answer = (matches: boolean) => {
    if (!job) return;
    dispatch({ type: 'pairing-answered', jobId: job.jobId });
    void act(() => service.confirmPairing({ jobId: job.jobId, matches }));
  };
  const sendSecret = (secret: string) => {
    if (!job) return;
    dispatch({ type: 'credentials-sent', jobId: job.jobId });
    void act(() => service.provideCredentials({ jobId: job.jobId, secret }));
  };
  const saveDiagnostics = () => {
    if (!job) return;
    const report = { savedAt: new Date().toISOString(), phone, job };
    actions.save(`tether-diagnostics-${phone.serial}.json`, JSON.stringify(report, null, 2));
  };

  const canStart = !job || job.state === 'cancelled' || (job.state === 'signed-in' && phone.state !== 'signed-in');
  return (
    <Card className={styles.card} role="region" aria-label={`${phone.modelName}, serial ${phone.serial}`} data-serial={phone.serial}>
      <PhoneHeader phone={phone} />
      <div className={styles.hidden} aria-live="polite">
        {announcement(job)}
      </div>
      {error && (
        <MessageBar intent="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      {phone.state === 'in-use' && (
        <MessageBar intent="warning">
          <MessageBarBody>
            <MessageBarTitle>Another program is using this phone.</MessageBarTitle>
            Close the other program (or unplug and plug the phone back in), then try again.
          </MessageBarBody>
        </MessageBar>
      )}
      {phone.state === 'unplugged' && running && (
        <MessageBar intent="warning">
          <MessageBarBody>The phone was unplugged. Plug it back in and Tether carries on where it stopped.</MessageBarBody>
        </MessageBar>
      )}
      {canStart && phone.state !== 'in-use' && <SignInForm phone={phone} busy={busy} onStart={(spec) => void start(spec)} />}
      {pairing && <PairingPrompt pairing={pairing} onAnswer={answer} />}
      {credentials && <CredentialsPrompt request={credentials} onSend={sendSecret} />}
      {job && job.state === 'signed-in' && (
        <MessageBar intent="success" data-testid="signed-in">
          <MessageBarBody>
            <MessageBarTitle>Signed in.</MessageBarTitle>
            {job.result ? `The phone is signed in as ${job.result.sipUri.replace(/^sip:/i, '')}.` : 'The phone is signed in.'}
          </MessageBarBody>
        </MessageBar>
      )}
      {job && job.state === 'failed' && job.failure && (
        <FailureView failure={job.failure} copy={actions.copy} onSaveDiagnostics={saveDiagnostics} onRetry={() => void act(() => service.retry({ jobId: job.jobId }))} />
      )}
      {job && job.state !== 'cancelled' && (
        <>
          <Divider />
          <StageStepper stages={job.stages} now={now} />
        </>
      )}
      {running && (
        <div className={styles.row}>
          <Button onClick={() => void act(() => service.cancel({ jobId: job.jobId }))}>Cancel</Button>
        </div>
      )}
    </Card>
  );
}
