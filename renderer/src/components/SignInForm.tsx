import { Button, Field, Input, makeStyles, Radio, RadioGroup, tokens } from '@fluentui/react-components';
import { useId, useState, type FormEvent } from 'react';
import type { PhoneInfo, SignInKind, SignInSpec } from '../../../common/service/contract';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS },
});

const KIND_WORDS: Record<SignInKind, string> = { pin: 'PIN', ntlm: 'Windows credentials' };

/**
 * Who signs in, and how. The PIN or password is not asked here: the service asks for it when
 * stage 7 needs it (CredentialsPrompt), so it is held for as short a time as possible.
 */
export function SignInForm({ phone, busy, onStart }: { readonly phone: PhoneInfo; readonly busy: boolean; readonly onStart: (spec: SignInSpec) => void }) {
  const styles = useStyles();
  const kinds = phone.signInKinds;
  const [kind, setKind] = useState<SignInKind>(kinds.includes('pin') ? 'pin' : 'ntlm');
  const [user, setUser] = useState('');
  const [sipUri, setSipUri] = useState('');
  const id = useId();
  const userOk = kind === 'pin' ? /^\+?[0-9]{2,20}$/.test(user.trim()) : /^[^\\\s]+\\[^\\\s]+$/.test(user.trim());
  const sipOk = kind === 'pin' || /^sip:[^\s@<>"]+@[^\s@<>"]+$/i.test(sipUri.trim());

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!userOk || !sipOk) return;
    onStart({ serial: phone.serial, kind, user: user.trim(), ...(kind === 'ntlm' ? { sipUri: sipUri.trim() } : {}) });
  };

  return (
    <form className={styles.form} onSubmit={submit} aria-label={`Sign in the ${phone.modelName} ${phone.serial}`}>
      {kinds.length > 1 ? (
        <Field label="Sign in with">
          <RadioGroup value={kind} onChange={(_, d) => setKind(d.value as SignInKind)} layout="horizontal">
            {kinds.map((k) => (
              <Radio key={k} value={k} label={KIND_WORDS[k]} />
            ))}
          </RadioGroup>
        </Field>
      ) : (
        <Field label="Sign in with" hint={kind === 'ntlm' ? 'This phone has no dial pad, so it signs in with Windows credentials.' : undefined}>
          <span>{KIND_WORDS[kind]}</span>
        </Field>
      )}
      {kind === 'pin' ? (
        <Field
          label="Phone number or extension"
          required
          validationState={user && !userOk ? 'error' : 'none'}
          validationMessage={user && !userOk ? 'Digits only, for example 4255550123 or 5012.' : undefined}
        >
          <Input id={`${id}-user`} value={user} onChange={(_, d) => setUser(d.value)} inputMode="tel" autoComplete="off" />
        </Field>
      ) : (
        <>
          <Field
            label="User name (DOMAIN\user)"
            required
            validationState={user && !userOk ? 'error' : 'none'}
            validationMessage={user && !userOk ? 'Write it as DOMAIN\\user, for example CONTOSO\\alice.' : undefined}
          >
            <Input id={`${id}-user`} value={user} onChange={(_, d) => setUser(d.value)} autoComplete="username" />
          </Field>
          <Field
            label="Sign-in address"
            required
            validationState={sipUri && !sipOk ? 'error' : 'none'}
            validationMessage={sipUri && !sipOk ? 'Write it as sip:alice@contoso.com.' : undefined}
          >
            <Input id={`${id}-sip`} value={sipUri} onChange={(_, d) => setSipUri(d.value)} placeholder="sip:alice@contoso.com" autoComplete="off" />
          </Field>
        </>
      )}
      <div className={styles.actions}>
        <Button type="submit" appearance="primary" disabled={busy || !userOk || !sipOk}>
          Sign in
        </Button>
      </div>
    </form>
  );
}
