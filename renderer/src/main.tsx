import { createDOMRenderer, FluentProvider, RendererProvider, teamsDarkTheme, teamsLightTheme } from '@fluentui/react-components';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { connect } from './connect';
import { useMediaQuery } from './useMediaQuery';

// The CSP allows a <style> only with this load's nonce; Griffel puts it on every style it inserts.
const nonce = document.querySelector<HTMLMetaElement>('meta[name="tether-nonce"]')?.content ?? '';
const renderer = createDOMRenderer(document, { styleElementAttributes: { nonce } });

function Root() {
  // Light or dark as the OS is, and it follows when the OS switches.
  const isDark = useMediaQuery('(prefers-color-scheme: dark)');
  return (
    <FluentProvider theme={isDark ? teamsDarkTheme : teamsLightTheme}>
      <App service={connection.service} onStatus={connection.onStatus} copy={copy} save={save} />
    </FluentProvider>
  );
}

const copy = (text: string) => navigator.clipboard.writeText(text);

const save = (name: string, text: string) => {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
};

const connection = connect();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RendererProvider renderer={renderer} targetDocument={document}>
      <Root />
    </RendererProvider>
  </StrictMode>,
);
