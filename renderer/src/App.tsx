import { Body1, makeStyles, MessageBar, MessageBarBody, Spinner, Title3, tokens } from '@fluentui/react-components';
import type { TetherService } from '../../common/service/contract';
import { PhonePanel, type PanelActions } from './components/PhonePanel';
import { useWindowState } from './useWindowState';

const useStyles = makeStyles({
  root: { minHeight: '100vh', backgroundColor: tokens.colorNeutralBackground2, color: tokens.colorNeutralForeground1 },
  header: {
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalM,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalXXL}`,
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  logo: { width: '28px', height: '28px' },
  main: { padding: tokens.spacingHorizontalXXL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL },
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(min(100%, 440px), 1fr))', gap: tokens.spacingHorizontalL, alignItems: 'start' },
  empty: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'center' },
});

export interface AppProps {
  readonly service: TetherService;
  readonly onStatus?: (listener: (connected: boolean) => void) => void;
  readonly copy: PanelActions['copy'];
  readonly save: PanelActions['save'];
}

export function App({ service, onStatus, copy, save }: AppProps) {
  const styles = useStyles();
  const [state, dispatch] = useWindowState(service, onStatus);
  const actions: PanelActions = { service, dispatch, copy, save };
  return (
    <div className={styles.root}>
      <header className={styles.header}>
        <img className={styles.logo} src="icon.svg" alt="" aria-hidden="true" />
        <Title3 as="h1">Tether</Title3>
        <Body1>Sign your desk phone in</Body1>
      </header>
      <main className={styles.main}>
        {onStatus && !state.connected && (
          <MessageBar intent="warning">
            <MessageBarBody>Not connected to Tether. If you closed it, start it again and reopen this page.</MessageBarBody>
          </MessageBar>
        )}
        {state.phones.length === 0 ? (
          <div className={styles.empty}>
            <Spinner size="small" aria-hidden="true" />
            <Body1>Plug your phone into this computer with its USB cable. It appears here by itself.</Body1>
          </div>
        ) : (
          <div className={styles.grid} aria-label="Phones">
            {state.phones.map((phone) => (
              <PhonePanel key={phone.serial} phone={phone} state={state} actions={actions} />
            ))}
          </div>
        )}
      </main>
    </div>
  );
}
