import { AREA_TABLES } from '../../common/errors';
import { STAGES } from '../../common/stages';

/** Markdown text outside code spans: HTML-like <placeholders> and emphasis characters shown as typed. */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/[\\*_]/g, (c) => `\\${c}`).replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}

function stageName(stage: string | null): string {
  const s = STAGES.find((x) => x.id === stage);
  return s === undefined ? 'no stage' : `stage ${s.n}, ${s.title}`;
}

/** docs/troubleshooting.md, rendered from the catalogue (test/common/troubleshooting-doc.test.ts keeps the file equal to it). */
export function renderTroubleshootingDoc(): string {
  const out: string[] = [
    '# Troubleshooting',
    '',
    '<!-- Generated from common/errors/catalogue by test/support/troubleshooting-doc.ts; do not edit by hand.',
    '     After changing the catalogue: TETHER_WRITE_DOCS=1 npx vitest run test/common/troubleshooting-doc.test.ts -->',
    '',
    'Every error Tether raises on purpose is a `TetherError` with a code from the catalogue',
    '(`common/errors/catalogue/*.ts`). Each code is worded for three audiences, because the window shows a',
    'desk user different words than a helpdesk:',
    '',
    '- **The user sees**: the symptom in plain words (`summary`).',
    '- **The user can**: what the desk user can do themselves: the cable, the PIN, a retry, whom to tell (`userAction`).',
    '- **Tell the admin**: the fix for the admin or helpdesk (`fix`), with the **cmdlet** that checks or repairs it when there is one.',
    '',
    '`troubleshootingOf(error)` (`common/errors/troubleshooting.ts`) turns an error, or one serialized across',
    "IPC, into the contract's `Troubleshooting` (`userSees`, `userCan`, `adminFix`, `cmdlet`, and the error",
    "itself); the error's own stage wins over the catalogue's. A code this version does not know reads as",
    '`INTERNAL`. `test/common/troubleshooting.test.ts` checks that every code has all three, in plain words',
    'for the user (no code names, commands, cmdlets or paths).',
    '',
    '## Areas',
    '',
  ];
  for (const [area, table] of Object.entries(AREA_TABLES)) out.push(`- [${area}](#${area}) (${Object.keys(table).length})`);
  for (const [area, table] of Object.entries(AREA_TABLES)) {
    out.push('', `## ${area}`);
    for (const [code, e] of Object.entries(table)) {
      out.push('', `### ${code}`, '', `*${stageName(e.stage)}*`, '');
      out.push(`- **The user sees:** ${prose(e.summary)}`);
      out.push(`- **The user can:** ${prose(e.userAction)}`);
      out.push(`- **Tell the admin:** ${prose(e.fix)}`);
      if (e.cmdlet !== undefined) out.push(`- **Cmdlet:** \`${e.cmdlet}\``);
    }
  }
  return out.join('\n') + '\n';
}
