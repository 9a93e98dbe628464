/** The diff renderers' colours through chalk: the CLI's side of the diff Painter interface. */
import type { Painter } from '../diff/index.js';
import { paint, type CliIO } from './io.js';

/** The diff renderers' colours, through chalk (plain in a pipe or with NO_COLOR). */
export function chalkPainter(io: CliIO): Painter {
  const c = paint(io);
  return { added: c.green, removed: c.red, changed: c.yellow, heading: c.bold, dim: c.dim };
}
