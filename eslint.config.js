// Lint rules, including the layer direction (as VS Code and GitHub Desktop enforce theirs):
//   renderer → (preload API) → main → native;   common is pure and imports no layer;
//   lab/ stands apart: only tests and the CLI's demo wiring may import it;
//   `electron` only under main/app/ (and the sandboxed preload, which can require nothing else);
//   raw IPC (ipcRenderer, ipcMain listeners, webContents.send) only in the contract's two wrappers:
//   preload/index.ts and main/app/ipc.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// A relative import that climbs to the repository root and enters another layer's folder.
const forbid = (names, message) => ({ regex: `^(\\.\\./)+(${names.join('|')})(/|$)`, message });
const electron = { name: 'electron', message: 'electron may be imported only under main/app/.' };
const restricted = (patterns, paths = [electron]) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'coverage/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['common/**/*.ts'],
    rules: restricted([forbid(['main', 'native', 'renderer', 'lab'], 'common/ is pure and imports no layer.')]),
  },
  {
    files: ['native/**/*.ts'],
    rules: restricted([forbid(['main', 'renderer', 'lab'], 'native/ may import only common/.')]),
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/app/**', 'main/cli/**'],
    rules: restricted([forbid(['renderer', 'lab'], 'main/ may not import renderer/ or lab/.')]),
  },
  {
    files: ['main/cli/**/*.ts'],
    rules: restricted([forbid(['renderer'], 'The CLI may not import renderer/.')]),
  },
  {
    files: ['main/app/**/*.ts'],
    rules: restricted([forbid(['renderer', 'lab'], 'main/app may not import renderer/ or lab/.')], []),
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: restricted([
      forbid(['main', 'native', 'lab'], 'renderer/ talks to main only through the preload API.'),
      { group: ['node:*'], message: 'renderer/ has no Node.' },
    ]),
  },
  {
    files: ['preload/**/*.ts'],
    rules: restricted([{ regex: '^(\\.\\./)+(?!common/service/)', message: 'The preload imports only the service contract (common/service/).' }], []),
  },
  {
    files: ['**/*.{ts,tsx,mjs,js}'],
    ignores: ['preload/index.ts', 'main/app/ipc.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "Identifier[name='ipcRenderer']", message: 'Raw IPC only in preload/index.ts; the window uses the contract (window.tether).' },
        { selector: "MemberExpression[property.name='send'][object.property.name='webContents']", message: 'webContents.send only in main/app/ipc.ts.' },
        { selector: "MemberExpression[property.name='send'][object.name=/^(webContents|contents|sender)$/]", message: 'webContents.send only in main/app/ipc.ts.' },
        { selector: "MemberExpression[object.name='ipcMain'][property.name=/^(on|once|handle|handleOnce)$/]", message: 'IPC listeners only in main/app/ipc.ts (which checks sender and payload).' },
        // no-restricted-imports sees only static imports: the layer rule for electron, for the other two forms.
        { selector: "ImportExpression[source.value='electron']", message: 'electron may be imported only under main/app/ (a static import there).' },
        { selector: "CallExpression[callee.name='require'][arguments.0.value='electron']", message: 'electron may be imported only under main/app/ (a static import there).' },
      ],
    },
  },
  {
    files: ['lab/**/*.ts'],
    rules: restricted([forbid(['main', 'native', 'renderer'], 'lab/ depends only on common/.')]),
  },
);
