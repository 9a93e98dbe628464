/**
 * One contender, one process: `node .bench-child/bench/child.js <contender> <params-json>` (this
 * file transpiled by bench/child-build.ts, so no TypeScript loader is measured with it).
 * Prints `BENCH_RESULT <json>` ({ ms, maxRssBytes, info }) or `BENCH_ERROR <message>` as its
 * last line, so peak RSS belongs to this contender alone.
 */
import { apostropheRead, apostropheWrite } from './contenders/apostrophe.js';
import { commitAgain, commitAgainBy, commitFirst, diffSnapshots, gcRepository, idle, restoreSnapshot, verifySnapshot } from './contenders/dbsnap.js';
import { floorDump, floorRead, floorServer, floorWrite } from './contenders/floor.js';
import { seedWay } from './contenders/seed.js';
import { cpuNow, type Contender, type ContenderParams } from './contenders/types.js';

const commitAgainRead = commitAgainBy('read');
const commitAgainStream = commitAgainBy('stream');
/** dbsnap's own operations (every row they run under, whatever its id): they run with the executable's heap setting. */
const DBSNAP_OPERATIONS = new Set<Contender>([commitFirst, commitAgain, commitAgainRead, commitAgainStream, diffSnapshots, verifySnapshot, gcRepository, restoreSnapshot]);

const CONTENDERS: Record<string, Contender> = {
  'floor-dump': floorDump,
  'floor-server': floorServer,
  'floor-read': floorRead,
  commit: commitFirst,
  'commit-again': commitAgain,
  'commit-again-read': commitAgainRead,
  'commit-again-stream': commitAgainStream,
  'commit-change': commitAgain,
  diff: diffSnapshots,
  'diff-packed': diffSnapshots,
  verify: verifySnapshot,
  'verify-packed': verifySnapshot,
  gc: gcRepository,
  'commit-change-packed': commitAgain,
  'gc-change': gcRepository,
  'restore-packed': restoreSnapshot,
  'floor-write': floorWrite,
  restore: restoreSnapshot,
  seed: seedWay,
  'apostrophe-write': apostropheWrite,
  'apostrophe-read': apostropheRead,
  'many-dump': floorDump,
  'many-commit': commitFirst,
  'big-dump': floorDump,
  'big-commit': commitFirst,
  idle,
};

const [id, json] = process.argv.slice(2);
const contender = id ? CONTENDERS[id] : undefined;
if (!contender || !json) {
  console.log(`BENCH_ERROR usage: child.ts <${Object.keys(CONTENDERS).join('|')}> <params-json>`);
  process.exit(2);
}
if (DBSNAP_OPERATIONS.has(contender)) {
  // src/cli/heap-settings.ts: what bin/dbsnap.js runs with (a library caller keeps its own).
  const { applyHeapSettings } = (await import('../dist/cli/heap-settings.js' as string)) as typeof import('../src/cli/heap-settings.js');
  applyHeapSettings();
}
try {
  const cpu = cpuNow();
  const outcome = await contender(JSON.parse(json) as ContenderParams);
  const cpuMs = outcome.cpuMs ?? cpuNow() - cpu;
  // resourceUsage().maxRSS is in kilobytes (getrusage ru_maxrss).
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  console.log(`BENCH_RESULT ${JSON.stringify({ ms: outcome.ms, cpuMs, maxRssBytes, info: outcome.info ?? {} })}`);
  process.exit(0);
} catch (e) {
  const err = e as Error;
  console.error(err.stack ?? String(e));
  console.log(`BENCH_ERROR ${(err.message ?? String(e)).split('\n')[0]}`);
  process.exit(1);
}
