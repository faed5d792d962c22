/**
 * Splits a header value at `sep` where it is outside double quotes; a backslash inside quotes
 * escapes the next character (RFC 3261 §25.1 quoted-pair). The parts keep their quotes and spaces.
 * `unterminated` says a quote was left open: strict readers refuse that, lenient ones need not.
 */
export function splitOutsideQuotes(s: string, sep: string): { parts: string[]; unterminated: boolean } {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted && c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return { parts, unterminated: quoted };
}
