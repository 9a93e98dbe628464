/** The dbsnap executable: the one place that touches process.argv and process.exit. */
import { releaseHeldLocksSync } from '../store/index.js';
import { applyHeapSettings } from './heap-settings.js';
import { processIO } from './io.js';
import { EXIT, oneLineError, runCli } from './run.js';

// Bounded heap growth: peak memory follows the data, not V8's default slack (heap-settings.ts).
applyHeapSettings();
const argv = process.argv.slice(2);
const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  // First Ctrl-C asks the running operation to stop cleanly; a second one exits at once.
  if (++interrupts > 1) process.exit(EXIT.interrupted);
  // Abort first: the progress display stops on the signal, so nothing redraws over this line.
  controller.abort();
  process.stderr.write('\ninterrupting: finishing cleanly, Ctrl-C again to force\n');
});
process.on('SIGTERM', () => controller.abort());
// Whatever way the process ends, a repository lock it holds goes with it.
process.on('exit', releaseHeldLocksSync);
// An error thrown where no command awaits it (a driver event, a stray callback) is still one
// line on stderr and exit 2, never a stack trace and a lock left behind.
const crash = (err: unknown): void => {
  process.stderr.write(oneLineError(err, argv, process.env));
  process.exit(EXIT.error);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

const io = processIO(controller.signal);
const code = await runCli(argv, io);
process.exitCode = code;
// Let stdout drain, then leave even if a driver socket lingers.
setImmediate(() => process.exit(code));
