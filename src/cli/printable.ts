/**
 * Names dbsnap prints come from a database or a hand-edited repository: a collection, database,
 * field or tag name can hold control characters, and printed raw an ESC sequence could retitle
 * the terminal, move the cursor or hide the line that says what went wrong. Every human output
 * line passes here (run.ts wraps the CLI's stdout and stderr); --json output stays exact.
 */

// C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides/isolates
// that make text display in another order than it is stored.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_NEWLINE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
// chalk's colour sequences (SGR: ESC [ params m) are the only ones dbsnap itself writes to stdout/stderr.
const COLOUR_OR_CONTROL = /\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character written as an escape (`\x1b`, `\u202e`); tab and newline
 * are kept unless `oneLine`.
 *
 * @example
 * printable('evil\x1b]0;owned\x07') // 'evil\\x1b]0;owned\\x07'
 */
export function printable(text: string, opts: { oneLine?: boolean } = {}): string {
  return text.replace(opts.oneLine ? CONTROL_OR_NEWLINE : CONTROL, escape);
}

/** Output text: with `colour`, chalk's colour sequences pass and every other control character is escaped. */
export function printableOutput(text: string, colour: boolean): string {
  if (!colour) return printable(text);
  return text.replace(COLOUR_OR_CONTROL, (m) => (m.length > 1 ? m : escape(m)));
}
