/**
 * `npm run bench [-- --docs N --runs R --json ...]`: dbsnap side by side with the plain ways of
 * doing the same job, on the sample shop, in one run. See docs/BENCHMARKS.md.
 *
 * The MongoDB server runs in its own process (scripts/test-server.ts: whatever startMongoServer
 * picks) and every contender runs in a child process of its own, so neither competes with the
 * measured code for the event loop and peak RSS is per contender. Contenders alternate across
 * rounds (odd rounds run in reverse order) so machine drift hits them equally; the median counts.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BSON, MongoClient } from 'mongodb';
import { generateShop, loadShop, mutateShop } from '../test/support/shop.js';
import type { ContenderParams } from './contenders/types.js';
import { loadBigDocuments, loadManyCollections, type LoadedDatabase } from './databases.js';
import { buildChild } from './child-build.js';
import { summarizeProfile } from './profile.js';
import {
  docHistoryTargets,
  type DocHistoryResult,
  evaluateTargets,
  formatTable,
  formatTargets,
  fmtInt,
  summarize,
  type ContenderResult,
  type Sample,
} from './report.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DB = 'bench_shop';

interface Args {
  docs: number;
  runs: number;
  seed: number;
  json: boolean;
  timeoutSec: number;
  only: Set<string> | null;
  skip: Set<string>;
  profile: Set<string>;
  workdir: string;
  keep: boolean;
  depsPrefix: string;
  historyCommits: number;
  manyCollections: number;
  manyDocs: number;
  bigDocs: number;
  bigMb: number;
}

const USAGE = `usage: npm run bench -- [--docs N] [--runs R] [--json] [--seed S] [--timeout SEC]
       [--only a,b] [--skip a,b] [--profile a,b] [--workdir DIR] [--keep] [--deps-prefix DIR]
       [--many-collections N] [--many-docs N] [--big-docs N] [--big-mb N] [--history-commits N]
contenders: idle floor-dump floor-server floor-read commit commit-again commit-again-read
            commit-again-stream commit-change diff verify
            floor-write restore seed apostrophe-write apostrophe-read gc commit-change-packed
            gc-change diff-packed verify-packed restore-packed many-dump many-commit big-dump big-commit
            doc-history
groups for --only/--skip: apostrophe (both apostrophe rows), packed (the six packed rows),
many (300 collections, 30,000 documents), big (10 documents of ~10 MB); --profile writes V8 CPU
profiles of those contenders (node --cpu-prof) and prints their hot spots to stderr.
--history-commits N (default 100): length of the history doc-history builds before reading one
document's history (bench/doc-history.ts, run once, not per round)`;

function parseArgs(argv: string[]): Args {
  const a: Args = {
    docs: 100_000,
    runs: 3,
    seed: 1,
    json: false,
    timeoutSec: 900,
    only: null,
    skip: new Set(),
    profile: new Set(),
    workdir: join(os.tmpdir(), `dbsnap-bench-${process.pid}`),
    keep: false,
    depsPrefix: process.env.BENCH_DEPS_PREFIX ?? join(os.tmpdir(), 'bench-deps'),
    historyCommits: 100,
    manyCollections: 300,
    manyDocs: 30_000,
    bigDocs: 10,
    bigMb: 10,
  };
  const list = (v: string) => new Set(v.split(',').map((s) => s.trim()).filter(Boolean));
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v;
    };
    const int = () => {
      const n = Number(value().replace(/_/g, ''));
      if (!Number.isSafeInteger(n) || n < 1) fail(`${flag} needs a positive integer`);
      return n;
    };
    switch (flag) {
      case '--docs': a.docs = int(); break;
      case '--runs': a.runs = int(); break;
      case '--seed': a.seed = int(); break;
      case '--timeout': a.timeoutSec = int(); break;
      case '--json': a.json = true; break;
      case '--keep': a.keep = true; break;
      case '--only': a.only = list(value()); break;
      case '--skip': a.skip = list(value()); break;
      case '--profile': a.profile = list(value()); break;
      case '--workdir': a.workdir = resolve(value()); break;
      case '--deps-prefix': a.depsPrefix = resolve(value()); break;
      case '--history-commits': a.historyCommits = int(); break;
      case '--many-collections': a.manyCollections = int(); break;
      case '--many-docs': a.manyDocs = int(); break;
      case '--big-docs': a.bigDocs = int(); break;
      case '--big-mb': a.bigMb = int(); break;
      case '--help': case '-h': console.log(USAGE); process.exit(0);
      default: fail(`unknown option ${flag}`);
    }
  }
  if (a.docs < 4) fail('--docs must be at least 4 (one per shop collection)');
  return a;
}

function fail(msg: string): never {
  console.error(`bench: ${msg}\n${USAGE}`);
  process.exit(2);
}

function log(msg: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

// ---------------------------------------------------------------------------------------------
// The server, in its own process

interface Server {
  uri: string;
  description: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServer(extraEnv: NodeJS.ProcessEnv = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/test-server.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=16384`, ...extraEnv },
  });
  let description = '';
  createInterface({ input: child.stderr! }).on('line', (line) => {
    const m = /^test-server: (.*); Ctrl-C to stop$/.exec(line);
    if (m) description = m[1]!;
    else if (!line.startsWith('test-server:')) process.stderr.write(`[server] ${line}\n`);
  });
  const uri = await new Promise<string>((resolveUri, reject) => {
    const timer = setTimeout(() => reject(new Error('test server did not print MONGODB_URI within 120 s')), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('MONGODB_URI=')) {
        clearTimeout(timer);
        resolveUri(line.slice('MONGODB_URI='.length).trim());
      }
    });
    child.once('exit', (code) => reject(new Error(`test server exited (${code}) before printing MONGODB_URI`)));
  });
  // The description line comes on stderr right after the URI.
  await new Promise((r) => setTimeout(r, 200));
  return {
    uri,
    description,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Peak RSS of a live process from /proc (Linux only), in bytes. */
async function procPeakRss(pid: number | undefined): Promise<number | null> {
  if (!pid) return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system) a live process has used so far, in milliseconds, from /proc (Linux
 * only; null elsewhere). Read before and after each contender, it gives the server's share.
 */
async function procCpuMs(pid: number | undefined): Promise<number | null> {
  if (!pid) return null;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

// ---------------------------------------------------------------------------------------------
// Contender children

interface ChildOutcome {
  sample?: Sample;
  /** `error: ...`, `n/a ...` or `timeout ...` */
  note?: string;
}

interface ScriptRun {
  code: number | null;
  timedOut: boolean;
  /** The last 4,000 characters the script wrote to stderr. */
  stderrTail: string;
}

/**
 * Runs one of the bench's scripts in a child process (TypeScript under tsx; a .js file, such as
 * the transpiled contender child, with node alone): each stdout line goes
 * to `onLine`, stderr is kept (its tail) and echoed live with `echoStderr`, and the child is
 * killed after `timeoutMs`. Resolves when its output streams are closed.
 */
async function runScript(
  script: string,
  argv: string[],
  opts: { nodeArgs?: string[]; env: NodeJS.ProcessEnv; timeoutMs: number; onLine: (line: string) => void; echoStderr?: boolean },
): Promise<ScriptRun> {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, ...(opts.nodeArgs ?? []), resolve(ROOT, script), ...argv], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env,
  });
  createInterface({ input: child.stdout! }).on('line', opts.onLine);
  let stderrTail = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString('utf8')).slice(-4000);
    if (opts.echoStderr) process.stderr.write(d);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  clearTimeout(timer);
  return { code, timedOut, stderrTail };
}

/** bench/child.ts transpiled to JavaScript (bench/child-build.ts), built on first use. */
let childScript: string | undefined;

async function runChild(id: string, params: ContenderParams, args: Args, round: number): Promise<ChildOutcome> {
  const nodeArgs = args.profile.has(id) ? ['--cpu-prof', '--cpu-prof-dir', join(args.workdir, 'profiles', `${id}-r${round}`)] : [];
  let last = '';
  childScript ??= await buildChild(ROOT);
  const r = await runScript(childScript, [id, JSON.stringify(params)], {
    nodeArgs,
    env: { ...process.env, BENCH_APOSTROPHE_PREFIX: args.depsPrefix },
    timeoutMs: args.timeoutSec * 1000,
    onLine: (line) => {
      if (line.startsWith('BENCH_')) last = line;
    },
  });
  if (r.timedOut) return { note: `timeout after ${args.timeoutSec} s` };
  if (last.startsWith('BENCH_RESULT ')) return { sample: JSON.parse(last.slice('BENCH_RESULT '.length)) as Sample };
  if (last.startsWith('BENCH_ERROR ')) {
    const msg = last.slice('BENCH_ERROR '.length);
    if (process.env.BENCH_DEBUG) process.stderr.write(r.stderrTail);
    return { note: msg.startsWith('n/a') ? msg : `error: ${msg}` };
  }
  return { note: `error: child exited with ${r.code}: ${r.stderrTail.trim().split('\n').slice(-3).join(' / ')}` };
}

/**
 * Runs bench/doc-history.ts once against the benchmark's server (its own database), so the CPU
 * it reports is the client's alone. Returns its result or why there is none.
 */
async function runDocHistory(args: Args, uri: string): Promise<DocHistoryResult | string> {
  let last = '';
  const timeoutSec = args.timeoutSec * 4;
  const r = await runScript(
    'bench/doc-history.ts',
    ['--docs', String(args.docs), '--commits', String(args.historyCommits), '--every', '10'],
    {
      env: { ...process.env, DBSNAP_TEST_MONGODB_URI: uri },
      timeoutMs: timeoutSec * 1000,
      onLine: (line) => {
        if (line.trim()) last = line.trim();
      },
      echoStderr: !!process.env.BENCH_DEBUG,
    },
  );
  if (r.timedOut) return `timeout after ${timeoutSec} s`;
  if (r.code === 0 && last.startsWith('{')) return JSON.parse(last) as DocHistoryResult;
  return `error: doc-history exited with ${r.code}: ${r.stderrTail.trim().split('\n').slice(-2).join(' / ')}`;
}

// ---------------------------------------------------------------------------------------------
// Helpers around the contenders

/** Bytes of the files under dir (apparent sizes), e.g. a bare repository's objects/. */
async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name))).size;
  }
  return total;
}

async function duKb(dir: string): Promise<number | null> {
  try {
    const { stdout } = await run('du', ['-sk', dir]);
    return Number(stdout.split(/\s/)[0]);
  } catch {
    return null;
  }
}

async function gitAvailable(): Promise<string | null> {
  try {
    const { stdout } = await run('git', ['--version']);
    return stdout.trim();
  } catch {
    return null;
  }
}

/** Installs @apostrophecms/mongodb-snapshot into a temp prefix if it is not there yet; returns why not, or null. */
async function ensureApostrophe(prefix: string): Promise<string | null> {
  const marker = join(prefix, 'node_modules', '@apostrophecms', 'mongodb-snapshot', 'index.js');
  if (existsSync(marker)) return null;
  log(`installing @apostrophecms/mongodb-snapshot into ${prefix} (outside the project)`);
  try {
    await mkdir(prefix, { recursive: true });
    await run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '@apostrophecms/mongodb-snapshot'], {
      timeout: 300_000,
    });
  } catch (e) {
    return `n/a: npm install failed (${(e as Error).message.split('\n')[0]})`;
  }
  return existsSync(marker) ? null : 'n/a: npm install did not produce the package';
}

async function bsonBytesOfShop(docs: number, seed: number): Promise<number> {
  let bytes = 0;
  for (const { docs: batch } of generateShop({ totalDocs: docs, seed, batchSize: 1000 })) {
    for (const d of batch) bytes += BSON.calculateObjectSize(d);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Main

interface Growth {
  firstBytes: number;
  afterChangeBytes: number;
  percent: number;
  firstDuKb: number | null;
  afterChangeDuKb: number | null;
}

const LABELS: Record<string, { label: string; floor?: string }> = {
  idle: { label: 'idle child (driver and dist/ loaded; RSS baseline)' },
  'floor-server': { label: 'floor-server (sorted raw find, bytes discarded)', floor: 'floor-dump' },
  'floor-dump': { label: 'floor-dump (sorted raw find -> one .bson file per collection)' },
  'floor-read': { label: 'floor-read (driver -> canonical EJSON lines)', floor: 'floor-dump' },
  commit: { label: 'dbsnap commit (empty repository)', floor: 'floor-read' },
  'commit-again': { label: 'dbsnap commit again (nothing changed)', floor: 'floor-read' },
  // The same no-change commit by each way of knowing it (README "Knowing that nothing changed"):
  // commit-again above is dbHash (the bench server is a standalone on this machine).
  'commit-again-read': { label: 'dbsnap commit again, full read (--no-server-hashes)', floor: 'floor-read' },
  'commit-again-stream': { label: 'dbsnap commit again, change stream (replica set)', floor: 'floor-read' },
  'commit-change': { label: 'dbsnap commit after 0.1% changed', floor: 'floor-read' },
  diff: { label: 'dbsnap diff HEAD~1 HEAD (0.1% apart)', floor: 'floor-read' },
  verify: { label: 'dbsnap verify HEAD (offline)', floor: 'floor-read' },
  seed: { label: "seed's way (toArray, JSON.stringify, git commit)", floor: 'floor-read' },
  'apostrophe-write': { label: '@apostrophecms/mongodb-snapshot write', floor: 'floor-read' },
  'floor-write': { label: 'floor-write (insertMany, batches of 1,000)' },
  restore: { label: 'dbsnap restore (replace, verified)', floor: 'floor-write' },
  'apostrophe-read': { label: '@apostrophecms/mongodb-snapshot read', floor: 'floor-write' },
  // The same chain on a copy of the repository that `dbsnap gc` packed after the first commit;
  // each packed row's ratio is to its loose counterpart.
  gc: { label: 'dbsnap gc after the first commit', floor: 'commit' },
  'commit-change-packed': { label: 'dbsnap commit after 0.1% changed, packed repository', floor: 'commit-change' },
  'gc-change': { label: 'dbsnap gc after the 0.1% commit (merges the pack)', floor: 'gc' },
  'diff-packed': { label: 'dbsnap diff HEAD~1 HEAD, packed', floor: 'diff' },
  'verify-packed': { label: 'dbsnap verify HEAD, packed', floor: 'verify' },
  'restore-packed': { label: 'dbsnap restore, packed', floor: 'restore' },
  // Reported without a target: each database against its own dump floor.
  'many-dump': { label: 'many collections: floor-dump' },
  'many-commit': { label: 'many collections: dbsnap commit', floor: 'many-dump' },
  'big-dump': { label: 'big documents: floor-dump' },
  'big-commit': { label: 'big documents: dbsnap commit', floor: 'big-dump' },
};

const PACKED_IDS = ['gc', 'commit-change-packed', 'gc-change', 'diff-packed', 'verify-packed', 'restore-packed'];

/** Names that `--only` and `--skip` accept for several rows at once. */
const ROW_GROUPS: Record<string, string[]> = {
  apostrophe: ['apostrophe-write', 'apostrophe-read'],
  packed: PACKED_IDS,
  many: ['many-dump', 'many-commit'],
  big: ['big-dump', 'big-commit'],
};
const groupsOf = (id: string) => Object.keys(ROW_GROUPS).filter((g) => ROW_GROUPS[g]!.includes(id));

/** The reported-only databases beside the shop (issue 17): their database names. */
const MANY_DB = 'bench_many';
const BIG_DB = 'bench_big';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Other work on the machine skews wall times; the figures are read against this.
  const loadAverageAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const wanted = (id: string) =>
    (args.only === null || args.only.has(id) || groupsOf(id).some((g) => args.only!.has(g))) &&
    !args.skip.has(id) &&
    !groupsOf(id).some((g) => args.skip.has(g));
  const results = new Map<string, ContenderResult>();
  for (const [id, l] of Object.entries(LABELS)) {
    if (wanted(id)) results.set(id, { id, label: l.label, floor: l.floor, samples: [] });
  }
  const noteOnce = (id: string, note: string) => {
    const r = results.get(id);
    if (r && !r.note) r.note = note;
  };

  await rm(args.workdir, { recursive: true, force: true });
  await mkdir(args.workdir, { recursive: true });
  const git = await gitAvailable();
  if (!git) noteOnce('seed', 'n/a: git not found');
  if (results.has('apostrophe-write') || results.has('apostrophe-read')) {
    const why = await ensureApostrophe(args.depsPrefix);
    if (why) {
      noteOnce('apostrophe-write', why);
      noteOnce('apostrophe-read', why);
    }
  }

  log('starting the MongoDB server in its own process');
  const server = await startServer();
  log(`server: ${server.description} (pid ${server.child.pid})`);
  const stopServer = () => void server.stop();
  process.once('SIGINT', () => {
    stopServer();
    process.exit(130);
  });

  // Held in an object: TypeScript does not track assignments made inside the group closures.
  const state: { growth: Growth | null; packedGrowth: Growth | null; docHistory: DocHistoryResult | string | null } = {
    growth: null,
    packedGrowth: null,
    docHistory: null,
  };
  let bsonBytes = 0;
  let loadMs = 0;
  const extraDatabases: Record<string, LoadedDatabase> = {};
  // The wire test server can be busy for a long time on one command (it has no _id index for
  // point lookups); generous timeouts keep the driver's monitor from dropping the connection.
  const client = await MongoClient.connect(server.uri, {
    connectTimeoutMS: 0,
    socketTimeoutMS: 0,
    serverSelectionTimeoutMS: 600_000,
    heartbeatFrequencyMS: 600_000,
  });
  let serverPeak: number | null = null;
  const stopLater: (() => Promise<void>)[] = [];
  try {
    const source = client.db(SOURCE_DB);
    await source.dropDatabase();
    log(`loading the shop: ${fmtInt(args.docs)} documents`);
    const t0 = performance.now();
    let lastLog = 0;
    await loadShop(source, {
      totalDocs: args.docs,
      seed: args.seed,
      onProgress: (p) => {
        if (performance.now() - lastLog > 10_000) {
          lastLog = performance.now();
          log(`  ${p.collection} ${fmtInt(p.done)}/${fmtInt(p.total)}`);
        }
      },
    });
    loadMs = performance.now() - t0;
    bsonBytes = await bsonBytesOfShop(args.docs, args.seed);
    log(`loaded in ${(loadMs / 1000).toFixed(1)} s; ${(bsonBytes / 2 ** 20).toFixed(1)} MB of BSON`);
    const loadExtra = async (ids: string[], db: string, load: () => Promise<LoadedDatabase>) => {
      if (!ids.some((id) => results.has(id))) return;
      await client.db(db).dropDatabase();
      const loaded = await load();
      log(`${db}: ${loaded.collections} collections, ${fmtInt(loaded.documents)} documents, ${(loaded.bsonBytes / 2 ** 20).toFixed(1)} MB of BSON`);
      extraDatabases[db] = loaded;
      for (const id of ids) {
        const r = results.get(id);
        if (r) Object.assign(r, { documents: loaded.documents, bsonBytes: loaded.bsonBytes });
      }
    };
    await loadExtra(ROW_GROUPS.many!, MANY_DB, () =>
      loadManyCollections(client.db(MANY_DB), { collections: args.manyCollections, documents: args.manyDocs, seed: args.seed }),
    );
    await loadExtra(ROW_GROUPS.big!, BIG_DB, () =>
      loadBigDocuments(client.db(BIG_DB), { count: args.bigDocs, megabytes: args.bigMb, seed: args.seed }),
    );

    const base = { uri: server.uri, db: SOURCE_DB, docs: args.docs, seed: args.seed };
    const skipLater = new Set<string>();
    let latestRepo: string | null = null;
    let latestPackedRepo: string | null = null;
    let apostropheDir: string | null = null;

    const measure = async (id: string, round: number, params: ContenderParams): Promise<boolean> => {
      const r = results.get(id);
      if (!r || skipLater.has(id)) return false;
      if (r.note?.startsWith('n/a')) return false;
      log(`round ${round + 1}: ${id}`);
      const serverBefore = await procCpuMs(server.child.pid);
      const out = await runChild(id, params, args, round);
      const serverAfter = await procCpuMs(server.child.pid);
      if (out.sample) {
        if (serverBefore !== null && serverAfter !== null) out.sample.serverCpuMs = serverAfter - serverBefore;
        r.samples.push(out.sample);
        log(`  ${(out.sample.ms / 1000).toFixed(2)} s, peak RSS ${(out.sample.maxRssBytes / 2 ** 20).toFixed(0)} MB ${JSON.stringify(out.sample.info ?? {}).slice(0, 400)}`);
        return true;
      }
      log(`  ${out.note}`);
      noteOnce(id, out.note!);
      if (out.note!.startsWith('n/a') || out.note!.startsWith('timeout')) skipLater.add(id);
      return false;
    };
    const scratch = async (name: string) => {
      const dir = join(args.workdir, name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      return dir;
    };
    const dropDb = (name: string) => client.db(name).dropDatabase();
    let replicaSet: Promise<{ server: Server; repo: string } | string> | undefined;
    const replicaSetShop = async (): Promise<{ server: Server; repo: string } | string> => {
      log('commit-again-stream: starting the wire test server as a replica set, loading the shop (untimed)');
      const rsServer = await startServer({ DBSNAP_TEST_SERVER: 'wire-replica-set', DBSNAP_TEST_MONGODB_URI: '' });
      stopLater.push(() => rsServer.stop());
      const rsClient = await MongoClient.connect(rsServer.uri, { socketTimeoutMS: 0, serverSelectionTimeoutMS: 600_000 });
      try {
        await loadShop(rsClient.db(SOURCE_DB), { totalDocs: args.docs, seed: args.seed });
      } finally {
        await rsClient.close().catch(() => {});
      }
      const repo = join(args.workdir, 'repo-replica-set');
      await rm(repo, { recursive: true, force: true });
      const first = await runChild('commit', { ...base, uri: rsServer.uri, target: '', repo, dir: args.workdir }, { ...args, profile: new Set() }, 0);
      return first.sample ? { server: rsServer, repo } : `error: the first commit on the replica set failed: ${first.note}`;
    };

    type Group = (round: number) => Promise<void>;
    const groups: Group[] = [
      async (round) => {
        // The three reading floors back to back, in alternating order like the groups.
        const ids = ['floor-dump', 'floor-server', 'floor-read'];
        for (const id of round % 2 === 0 ? ids : ids.reverse()) {
          const dir = await scratch(id);
          await measure(id, round, { ...base, target: '', repo: '', dir });
          await rm(dir, { recursive: true, force: true });
        }
      },
      async (round) => {
        if (!['commit', 'commit-again', 'commit-again-read', 'commit-change', 'diff', 'verify', 'restore', ...PACKED_IDS].some((id) => results.has(id))) return;
        const repo = join(args.workdir, `repo-r${round}`);
        await rm(repo, { recursive: true, force: true });
        const params = { ...base, target: '', repo, dir: args.workdir };
        // Later steps need the earlier ones, so the chain runs whole even when only a part is reported.
        const step = async (id: string, on = params) => {
          if (results.has(id)) return measure(id, round, on);
          return (await runChild(id, on, { ...args, profile: new Set() }, round)).sample !== undefined;
        };
        if (!(await step('commit'))) return;
        // Restore can use this snapshot even if a later step of the chain fails.
        if (latestRepo && latestRepo !== repo) await rm(latestRepo, { recursive: true, force: true });
        latestRepo = repo;
        const firstBytes = await dirBytes(join(repo, 'objects'));
        const firstDuKb = await duKb(join(repo, 'objects'));
        // The packed chain: a copy of the first snapshot, gc'd; later it gets the 0.1% commit too.
        const packedRepo = join(args.workdir, `repo-packed-r${round}`);
        const packedParams = { ...params, repo: packedRepo };
        let packedFirst: { bytes: number; du: number | null } | null = null;
        if (PACKED_IDS.some((id) => results.has(id))) {
          await rm(packedRepo, { recursive: true, force: true });
          await cp(repo, packedRepo, { recursive: true });
          if (await step('gc', packedParams)) packedFirst = { bytes: await dirBytes(join(packedRepo, 'objects')), du: await duKb(join(packedRepo, 'objects')) };
        }
        if (results.has('commit-again') || results.has('commit-change') || results.has('diff')) await step('commit-again');
        if (results.has('commit-again-read')) await measure('commit-again-read', round, params);
        if (!results.has('commit-change') && !results.has('diff')) return;
        try {
          const t = performance.now();
          const changed = await mutateShop(client.db(SOURCE_DB), { fraction: 0.001, seed: 1000 + round });
          log(`  mutateShop 0.1% (untimed, ${((performance.now() - t) / 1000).toFixed(1)} s): ${JSON.stringify(changed)}`);
        } catch (e) {
          const note = `error: mutateShop failed: ${(e as Error).message.split('\n')[0]}`;
          log(`  ${note}`);
          noteOnce('commit-change', note);
          noteOnce('diff', note);
          return;
        }
        if (!(await step('commit-change'))) return;
        const afterChangeBytes = await dirBytes(join(repo, 'objects'));
        state.growth = {
          firstBytes,
          afterChangeBytes,
          percent: ((afterChangeBytes - firstBytes) / firstBytes) * 100,
          firstDuKb,
          afterChangeDuKb: await duKb(join(repo, 'objects')),
        };
        if (results.has('diff')) await measure('diff', round, params);
        if (results.has('verify') || results.has('verify-packed')) await step('verify');
        if (packedFirst && (await step('commit-change-packed', packedParams)) && (await step('gc-change', packedParams))) {
          const afterChangeBytes = await dirBytes(join(packedRepo, 'objects'));
          state.packedGrowth = {
            firstBytes: packedFirst.bytes,
            afterChangeBytes,
            percent: ((afterChangeBytes - packedFirst.bytes) / packedFirst.bytes) * 100,
            firstDuKb: packedFirst.du,
            afterChangeDuKb: await duKb(join(packedRepo, 'objects')),
          };
          if (results.has('diff-packed')) await measure('diff-packed', round, packedParams);
          if (results.has('verify-packed')) await measure('verify-packed', round, packedParams);
          if (latestPackedRepo && latestPackedRepo !== packedRepo) await rm(latestPackedRepo, { recursive: true, force: true });
          latestPackedRepo = packedRepo;
        }
      },
      async (round) => {
        // A second server, the wire test server as a replica set, with the same shop and one
        // commit made before the first round (untimed): then each round commits with nothing
        // changed, which the change stream decides.
        if (!results.has('commit-again-stream')) return;
        const rs = (replicaSet ??= replicaSetShop());
        const ready = await rs;
        if (typeof ready === 'string') {
          noteOnce('commit-again-stream', ready);
          return;
        }
        await measure('commit-again-stream', round, { ...base, uri: ready.server.uri, target: '', repo: ready.repo, dir: args.workdir });
      },
      async (round) => {
        if (!results.has('floor-write')) return;
        await dropDb('bench_floor_write');
        await measure('floor-write', round, { ...base, target: 'bench_floor_write', repo: '', dir: args.workdir });
        await dropDb('bench_floor_write');
      },
      async (round) => {
        if (!results.has('restore')) return;
        if (!latestRepo) {
          noteOnce('restore', 'n/a (no snapshot: commit did not succeed)');
          return;
        }
        await dropDb('bench_restore');
        await measure('restore', round, { ...base, target: 'bench_restore', repo: latestRepo, dir: args.workdir });
        await dropDb('bench_restore');
        if (results.has('restore-packed') && latestPackedRepo) {
          await measure('restore-packed', round, { ...base, target: 'bench_restore', repo: latestPackedRepo, dir: args.workdir });
          await dropDb('bench_restore');
        }
      },
      async (round) => {
        if (!results.has('seed')) return;
        const dir = await scratch('seed');
        await run('git', ['init', '-q', dir]);
        await measure('seed', round, { ...base, target: '', repo: '', dir });
        await rm(dir, { recursive: true, force: true });
      },
      async (round) => {
        if (!results.has('apostrophe-write') && !results.has('apostrophe-read')) return;
        const dir = await scratch('apostrophe');
        const wrote = await measure('apostrophe-write', round, { ...base, target: '', repo: '', dir });
        if (wrote) {
          apostropheDir = dir;
          await dropDb('bench_apostrophe_read');
          await measure('apostrophe-read', round, { ...base, target: 'bench_apostrophe_read', repo: '', dir });
          await dropDb('bench_apostrophe_read');
        } else if (!results.get('apostrophe-read')?.samples.length) {
          noteOnce('apostrophe-read', 'n/a (needs the write row\'s file)');
        }
        await rm(dir, { recursive: true, force: true });
      },
    ];
    void apostropheDir;

    // Many collections, big documents: the dump floor and a commit into an empty repository each.
    for (const [dumpId, commitId, db] of [
      ['many-dump', 'many-commit', MANY_DB],
      ['big-dump', 'big-commit', BIG_DB],
    ] as const) {
      groups.push(async (round) => {
        const ids = round % 2 === 0 ? [dumpId, commitId] : [commitId, dumpId];
        for (const id of ids) {
          if (!results.has(id)) continue;
          const dir = await scratch(id);
          await measure(id, round, { ...base, db, target: '', repo: join(dir, 'repo'), dir });
          await rm(dir, { recursive: true, force: true });
        }
      });
    }

    if (results.has('idle')) await measure('idle', 0, { ...base, target: '', repo: '', dir: args.workdir });
    for (let round = 0; round < args.runs; round++) {
      const order = round % 2 === 0 ? groups : [...groups].reverse();
      for (const g of order) await g(round);
    }
    if (wanted('doc-history')) {
      log(`doc-history: ${args.historyCommits} commits, then one document's history (run once)`);
      const h = await runDocHistory(args, server.uri);
      if (typeof h === 'string') log(`  ${h}`);
      else log(`  ${JSON.stringify(h)}`);
      state.docHistory = h;
    }
  } finally {
    await client.close().catch(() => {});
    serverPeak = await procPeakRss(server.child.pid);
    await server.stop();
    for (const stop of stopLater) await stop().catch(() => {});
  }

  const rows = summarize([...results.values()], args.docs, bsonBytes);
  const g = state.growth;
  const pg = state.packedGrowth;
  const targets = [
    ...evaluateTargets(rows, { growthPercent: g?.percent ?? null, packedGrowthPercent: pg?.percent ?? null, documents: args.docs }),
    ...docHistoryTargets(state.docHistory),
  ];
  const machine = {
    loadAverageAtStart,
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    server: server.description,
    git,
  };
  const summary = {
    documents: args.docs,
    extraDatabases,
    bsonMb: bsonBytes / 2 ** 20,
    runs: args.runs,
    seed: args.seed,
    loadSeconds: loadMs / 1000,
    serverPeakRssMb: serverPeak === null ? null : serverPeak / 2 ** 20,
    machine,
    rows,
    repositoryGrowth: g,
    packedRepositoryGrowth: pg,
    documentHistory: state.docHistory,
    targets,
    samples: Object.fromEntries([...results.values()].map((r) => [r.id, r.samples])),
  };

  if (args.json) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    console.log(
      `\n${fmtInt(args.docs)} documents (${summary.bsonMb.toFixed(1)} MB of BSON), median of ${args.runs} run(s)\n` +
        `machine: ${machine.cpuModel}, ${machine.cpus} cores, ${machine.memoryGb} GB, node ${machine.node}, ` +
        `load average at start ${machine.loadAverageAtStart.join(' ')}; server: ${machine.server}\n`,
    );
    console.log(formatTable(rows));
    if (g) {
      console.log(
        `\nrepository objects/: ${(g.firstBytes / 2 ** 20).toFixed(1)} MB after the first commit, ` +
          `+${((g.afterChangeBytes - g.firstBytes) / 2 ** 20).toFixed(2)} MB after the 0.1% commit (${g.percent.toFixed(2)}%; ` +
          `du: ${g.firstDuKb} KB -> ${g.afterChangeDuKb} KB)`,
      );
    }
    if (pg) {
      console.log(
        `after dbsnap gc: ${(pg.firstBytes / 2 ** 20).toFixed(2)} MB packed after the first commit, ` +
          `+${((pg.afterChangeBytes - pg.firstBytes) / 2 ** 10).toFixed(1)} KB after the 0.1% commit and gc (${pg.percent.toFixed(3)}%; ` +
          `du: ${pg.firstDuKb} KB -> ${pg.afterChangeDuKb} KB)`,
      );
    }
    const h = state.docHistory;
    if (h && typeof h !== 'string') {
      console.log(
        `history of one document over ${h.commits} commits: ${h.versions} versions found, ${h.partsRead} part blobs read ` +
          `(${h.partsPerVersion} per version, ${h.commitsExamined} commits examined), ${h.historyCpuMs} ms CPU ` +
          `vs ${h.commitCpuMs} ms CPU for one commit after a 0.1% change (${h.ratioToCommit}x)`,
      );
    } else if (h) console.log(`history of one document: ${h}`);
    if (serverPeak !== null) console.log(`test server peak RSS: ${(serverPeak / 2 ** 20).toFixed(0)} MB`);
    console.log(`\n${formatTargets(targets)}`);
  }

  if (args.profile.size > 0) {
    const dir = join(args.workdir, 'profiles');
    for (const sub of existsSync(dir) ? (await readdir(dir)).sort() : []) {
      // One file per thread; the main thread's is the largest (the hooks worker mostly idles).
      const files = await Promise.all(
        (await readdir(join(dir, sub))).map(async (f) => ({ f: join(dir, sub, f), size: (await stat(join(dir, sub, f))).size })),
      );
      const main = files.sort((a, b) => b.size - a.size)[0];
      if (!main) continue;
      const text = await readFile(main.f, 'utf8');
      console.error(`\n== CPU profile ${main.f}\n${summarizeProfile(JSON.parse(text), ROOT)}`);
    }
  }
  if (!args.keep) {
    // Profiles are kept (they are the point of --profile); everything else goes.
    for (const entry of await readdir(args.workdir)) {
      if (entry !== 'profiles') await rm(join(args.workdir, entry), { recursive: true, force: true });
    }
    if (args.profile.size === 0) await rm(args.workdir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
