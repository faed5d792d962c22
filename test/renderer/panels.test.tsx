// @vitest-environment jsdom
import { FluentProvider, teamsLightTheme } from '@fluentui/react-components';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { ReactElement } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pendingStages, type JobView, type PhoneInfo, type Troubleshooting } from '../../common/service/contract';
import { CredentialsPrompt } from '../../renderer/src/components/CredentialsPrompt';
import { FailureView } from '../../renderer/src/components/FailureView';
import { PairingPrompt } from '../../renderer/src/components/PairingPrompt';
import { SignInForm } from '../../renderer/src/components/SignInForm';
import { StageStepper } from '../../renderer/src/components/StageStepper';

// jsdom has no layout: Fluent's MessageBar watches its size with a ResizeObserver.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

// jsdom has no media queries: answer them from this set (what the OS would say).
const mediaMatches = new Set<string>();
window.matchMedia = ((query: string) => ({
  matches: mediaMatches.has(query),
  media: query,
  addEventListener: () => undefined,
  removeEventListener: () => undefined,
})) as unknown as typeof window.matchMedia;

const show = (ui: ReactElement) => render(<FluentProvider theme={teamsLightTheme}>{ui}</FluentProvider>);
afterEach(cleanup);

const phone = (over: Partial<PhoneInfo> = {}): PhoneInfo => ({
  serial: 'S1',
  modelId: 'CX600',
  modelName: 'Polycom CX600',
  firmware: '4.0.7577.4455',
  state: 'ready',
  virtual: true,
  jobId: null,
  signInKinds: ['pin', 'ntlm'],
  detail: null,
  ...over,
});

describe('the sign-in screens', () => {
  it('a CX700 offers Windows credentials only', () => {
    show(<SignInForm phone={phone({ modelId: 'CX700', modelName: 'Polycom CX700', signInKinds: ['ntlm'] })} busy={false} onStart={() => undefined} />);
    expect(screen.queryByRole('radio')).toBeNull();
    expect(screen.getByText(/no dial pad/)).toBeTruthy();
    expect(screen.getByLabelText(/DOMAIN\\user/)).toBeTruthy();
    expect(screen.queryByLabelText(/Phone number or extension/)).toBeNull();
  });

  it('starts a PIN sign-in with the number, and no secret', () => {
    const onStart = vi.fn();
    show(<SignInForm phone={phone()} busy={false} onStart={onStart} />);
    fireEvent.change(screen.getByLabelText(/Phone number or extension/), { target: { value: ' 5012 ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(onStart).toHaveBeenCalledWith({ serial: 'S1', kind: 'pin', user: '5012' });
  });

  it('shows the pairing code large and answers Yes or No', () => {
    const onAnswer = vi.fn();
    show(<PairingPrompt pairing={{ jobId: 'job-00000001', serial: 'S1', code: '042917', reason: 'start' }} onAnswer={onAnswer} />);
    expect(screen.getByTestId('pairing-code').textContent).toBe('042 917');
    expect(screen.getByText('Does your phone show the same code?')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'No' }));
    expect(onAnswer).toHaveBeenCalledWith(false);
  });

  it('sends the PIN once, empties the field as it is sent, and hints at Caps Lock', () => {
    const onSend = vi.fn();
    show(<CredentialsPrompt request={{ jobId: 'job-00000001', serial: 'S1', kind: 'pin', user: '5012', reason: 'first' }} onSend={onSend} />);
    const field = screen.getByLabelText(/PIN for 5012/) as HTMLInputElement;
    expect(field.type).toBe('password');
    fireEvent.keyDown(field, { key: 'A', modifierCapsLock: true });
    expect(screen.getByText('Caps Lock is on.')).toBeTruthy();
    fireEvent.change(field, { target: { value: '2468' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect(onSend).toHaveBeenCalledTimes(1);
    expect(onSend).toHaveBeenCalledWith('2468');
    expect(field.value).toBe('');
    expect(document.body.innerHTML).not.toContain('2468');
  });

  it('says why it asks again after a rejection', () => {
    show(<CredentialsPrompt request={{ jobId: 'job-00000001', serial: 'S1', kind: 'ntlm', user: 'CONTOSO\\alice', reason: 'rejected' }} onSend={() => undefined} />);
    expect(screen.getByText(/did not accept/)).toBeTruthy();
    expect(screen.getByLabelText(/Password for CONTOSO\\alice/)).toBeTruthy();
  });

  it('the stepper shows all nine stages, a skipped reason, live bytes, percent and time left', () => {
    const stages = pendingStages().map((s) => {
      if (s.stage === 'vlan') return { ...s, status: 'skipped' as const, summary: 'No VLAN on this network' };
      if (s.stage === 'ip') return { ...s, status: 'done' as const, startedAt: 0, endedAt: 1200, summary: '10.0.0.5' };
      if (s.stage === 'check-update') return { ...s, status: 'progress' as const, startedAt: 2000, progress: { message: 'Sending firmware', bytes: 32 * 1048576, totalBytes: 64 * 1048576, fraction: 0.5, etaMs: 20_000 } };
      return s;
    });
    show(<StageStepper stages={stages} now={5000} />);
    const items = screen.getAllByRole('listitem');
    expect(items).toHaveLength(9);
    expect(screen.getByText('Skipped: No VLAN on this network')).toBeTruthy();
    expect(screen.getByTestId('progress-figures').textContent).toBe('32 MB of 64 MB · 50% · about 20 s left');
    expect(items[3]!.getAttribute('aria-current')).toBe('step');
    expect(items[1]!.textContent).toContain('1 s');
  });

  it('with reduced motion the running stage shows a still icon, not a spinner', () => {
    const stages = pendingStages().map((s) => (s.stage === 'vlan' ? { ...s, status: 'started' as const, startedAt: 0 } : s));
    show(<StageStepper stages={stages} now={10} />);
    expect(document.querySelector('.fui-Spinner')).not.toBeNull();
    expect(screen.queryByTestId('still-running')).toBeNull();
    cleanup();
    mediaMatches.add('(prefers-reduced-motion: reduce)');
    try {
      show(<StageStepper stages={stages} now={10} />);
      expect(document.querySelector('.fui-Spinner')).toBeNull();
      expect(screen.getByTestId('still-running')).toBeTruthy();
    } finally {
      mediaMatches.clear();
    }
  });

  it('the failure view gives the user’s words, their part, the admin’s fix and a copyable cmdlet', async () => {
    const failure: Troubleshooting = {
      code: 'AUTH_PIN_REJECTED',
      stage: 'auth',
      userSees: 'The phone says your PIN is not right.',
      userCan: 'Check the extension and PIN, then try again.',
      adminFix: 'Reset the user’s PIN.',
      cmdlet: 'Set-CsClientPin -Identity "sip:alice@contoso.com"',
      error: { type: 'TetherError', code: 'INTERNAL', stage: 'auth', message: 'x', detail: {} },
    };
    const copy = vi.fn(async () => undefined);
    const onRetry = vi.fn();
    show(<FailureView failure={failure} copy={copy} onRetry={onRetry} onSaveDiagnostics={() => undefined} />);
    expect(screen.getByText('Stage 7: Authentication')).toBeTruthy();
    expect(screen.getByText(failure.userSees)).toBeTruthy();
    expect(screen.getByText(failure.userCan)).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Copy the command for your admin' })));
    expect(copy).toHaveBeenCalledWith(failure.cmdlet);
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(onRetry).toHaveBeenCalled();
  });
});

export type { JobView };
