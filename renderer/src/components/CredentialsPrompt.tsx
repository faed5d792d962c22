import { Button, Field, Input, makeStyles, MessageBar, MessageBarBody, tokens } from '@fluentui/react-components';
import { useState, type FormEvent, type KeyboardEvent } from 'react';
import type { NeedsCredentialsEvent } from '../../../common/service/contract';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS },
});

const REASONS: Record<NeedsCredentialsEvent['reason'], string | null> = {
  first: null,
  resumed: 'Tether restarted while signing this phone in, and it never keeps your PIN or password: please type it again.',
  rejected: 'The server did not accept that. Check it and type it again.',
};

/**
 * Asks for the PIN or password when the service needs it. The secret goes to the service once
 * and the field is emptied as it is sent; nothing ever sends it back to the window.
 */
export function CredentialsPrompt({ request, onSend }: { readonly request: NeedsCredentialsEvent; readonly onSend: (secret: string) => void }) {
  const styles = useStyles();
  const [secret, setSecret] = useState('');
  const [capsLock, setCapsLock] = useState(false);
  const pin = request.kind === 'pin';
  const label = pin ? `PIN for ${request.user}` : `Password for ${request.user}`;
  const reason = REASONS[request.reason];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (secret.length === 0) return;
    const value = secret;
    setSecret('');
    onSend(value);
  };
  const watchCaps = (e: KeyboardEvent) => setCapsLock(e.getModifierState('CapsLock'));

  return (
    <form className={styles.form} onSubmit={submit} aria-label={pin ? 'PIN' : 'Windows password'}>
      {reason && (
        <MessageBar intent={request.reason === 'rejected' ? 'error' : 'info'}>
          <MessageBarBody>{reason}</MessageBarBody>
        </MessageBar>
      )}
      <Field label={label} required hint={capsLock ? 'Caps Lock is on.' : undefined} validationState={capsLock ? 'warning' : 'none'}>
        <Input
          type="password"
          value={secret}
          onChange={(_, d) => setSecret(d.value)}
          onKeyDown={watchCaps}
          onKeyUp={watchCaps}
          autoComplete="off"
          inputMode={pin ? 'numeric' : 'text'}
          autoFocus
        />
      </Field>
      <div className={styles.actions}>
        <Button type="submit" appearance="primary" disabled={secret.length === 0}>
          Continue
        </Button>
      </div>
    </form>
  );
}
