import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The layer rule for electron (eslint.config.js), in each form an import can take. */
const root = resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function errors(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, file) });
  return result!.messages.filter((m) => m.severity === 2).map((m) => m.message);
}

const forms = {
  static: "import { app } from 'electron';\nexport const a = app;\n",
  dynamic: "export async function a(): Promise<unknown> {\n  return import('electron');\n}\n",
  require: "declare const require: (n: string) => unknown;\nexport const a = require('electron');\n",
};

describe('electron only under main/app', () => {
  it.each(Object.entries(forms))('refuses a %s import of electron in main/service, renderer and common', async (_form, code) => {
    for (const file of ['main/service/probe.ts', 'renderer/src/probe.ts', 'common/probe.ts']) {
      expect((await errors(code, file)).join('\n'), file).toMatch(/electron may be imported only under main\/app/);
    }
  }, 60_000);

  it('allows a static import under main/app', async () => {
    expect(await errors(forms.static, 'main/app/probe.ts')).toEqual([]);
  }, 60_000);
});
