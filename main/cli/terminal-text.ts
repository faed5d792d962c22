import type { CliIO } from './io';

/**
 * Text from the network (DHCP options, DNS names, server messages in errors…) must not drive the
 * terminal: an ESC or BEL sequence could retitle the window, clear the screen, rewrite what was
 * printed, or (OSC 52) fill the clipboard. Every byte a command writes passes through
 * terminalSafe (main() wraps the CliIO), so no command can forget it.
 *
 * Escaped: C0 controls but newline and tab (CR too: it can overprint a line), DEL, C1 controls
 * (U+0080–U+009F: 8-bit CSI/OSC), and the Unicode bidi and line-separator controls (they reorder
 * or split what is shown). The escape is `\uXXXX`, which is also a valid JSON string escape, so a
 * `--json` document stays the same value. Only the exact SGR styles the CLI itself uses (bold, dim,
 * red, green, reset) pass as sequences; a network string could at worst recolour text with them.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /\x1b\[(?:0|1|2|31|32|31;1|32;1)m|[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (m) => (m.length > 1 ? m : `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

type Sink = CliIO['stdout'];

function safeSink(sink: Sink): Sink {
  return {
    write: (chunk: string) => sink.write(typeof chunk === 'string' ? terminalSafe(chunk) : chunk),
    // Commands ask whether they write to a terminal (colour, prompts): answer for the real sink.
    get isTTY() {
      return (sink as { isTTY?: boolean }).isTTY;
    },
  } as Sink;
}

/** The same IO with every stdout and stderr write passed through terminalSafe. */
export function terminalSafeIO(io: CliIO): CliIO {
  return { ...io, stdout: safeSink(io.stdout), stderr: safeSink(io.stderr) };
}
