import { TetherError } from '../errors';

const ILLEGAL_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const REPLACEMENTS: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Character references survive a parser's line-end and attribute-value normalisation.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * Escapes a string for XML text or a quoted attribute value. A character XML cannot carry at all
 * (a control character, a lone surrogate) is a BAD_INPUT error rather than silently dropped.
 */
export function escapeXml(value: string): string {
  const bad = ILLEGAL_CHAR.exec(value);
  if (bad) {
    throw new TetherError('BAD_INPUT', `Cannot put character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} in XML.`, {
      detail: { offset: bad.index },
    });
  }
  return value.replace(/[&<>"'\t\n\r]/g, (c) => REPLACEMENTS[c]!);
}
