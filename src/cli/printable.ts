/**
 * Names dbsnap prints come from a database or a hand-edited repository: a collection, database,
 * field or tag name can hold control characters, and printed raw an ESC sequence could retitle
 * the terminal, move the cursor or hide the line that says what went wrong. Every human output
 * line passes here (run.ts wraps the CLI's stdout and stderr); --json output stays exact.
 */

import { randomBytes } from 'node:crypto';

// C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides/isolates
// that make text display in another order than it is stored.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_NEWLINE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Stands for ESC in dbsnap's own colour sequences (io.ts paint) until the output filter writes
 * them: a private-use character and a per-process random tag, which no name can hold by chance,
 * so the filter can escape every control character of the text and still colour it.
 */
export const COLOUR_MARK = `\ue000${randomBytes(6).toString('hex')}\ue001`;

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

/**
 * Output text: every control character escaped, then (with `colour`) dbsnap's own colour
 * sequences written; without colour, there are none (paint() makes none at level 0).
 */
export function printableOutput(text: string, colour: boolean): string {
  const escaped = printable(text);
  return colour ? colourSequences(escaped) : escaped.replaceAll(COLOUR_MARK, '');
}

/** `text` with dbsnap's colour marks written as the ESC they stand for (JSON output, which is never escaped). */
export function colourSequences(text: string): string {
  return text.replaceAll(COLOUR_MARK, '\x1b');
}
