import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../common/errors';
import { renderTroubleshootingDoc } from '../support/troubleshooting-doc';

const DOC = resolve(import.meta.dirname, '../../docs/troubleshooting.md');

describe('docs/troubleshooting.md', () => {
  it('is the catalogue rendered, listing every code', async () => {
    const want = renderTroubleshootingDoc();
    if (process.env.TETHER_WRITE_DOCS === '1') await writeFile(DOC, want);
    const have = await readFile(DOC, 'utf8');
    for (const code of Object.keys(CATALOGUE)) expect(have, `${code} is missing`).toContain(`### ${code}\n`);
    expect(have, 'docs/troubleshooting.md is stale: TETHER_WRITE_DOCS=1 npx vitest run test/common/troubleshooting-doc.test.ts').toBe(want);
  });
});
