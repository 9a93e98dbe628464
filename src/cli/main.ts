/** The dbsnap executable: the one place that touches process.argv and process.exit. */
import { processIO } from './io.js';
import { runCli } from './run.js';

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  // First Ctrl-C asks the running operation to stop cleanly; a second one exits at once.
  if (++interrupts > 1) process.exit(130);
  // Abort first: the progress display stops on the signal, so nothing redraws over this line.
  controller.abort();
  process.stderr.write('\ninterrupting: finishing cleanly, Ctrl-C again to force\n');
});
process.on('SIGTERM', () => controller.abort());

const code = await runCli(process.argv.slice(2), processIO(controller.signal));
process.exitCode = code;
// Let stdout drain, then leave even if a driver socket lingers.
setImmediate(() => process.exit(code));
