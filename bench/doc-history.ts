/**
 * `npx tsx bench/doc-history.ts [--docs 100000] [--commits 100] [--every 10]`: the history of one
 * document over a long history of the sample shop, against the cost of one commit.
 *
 * The shop is loaded and committed once (the measured "one commit": CPU time of `commit` after
 * 0.1% of the shop changed). Then `--commits` more commits follow, each after a few `users`
 * documents changed (`commit --collections users`, so building the history stays quick); every
 * `--every`-th one also changes the watched user. `documentHistory` on that user then reports its
 * CPU time and the part files it read. CPU time (user+sys of this process), not wall time: the
 * machine may be shared. Prints one JSON line; docs/BENCHMARKS.md records the results.
 */
import { MongoClient } from 'mongodb';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { commit, documentHistory, init } from '../src/index.js';
import { startMongoServer } from '../test/support/mongo-server.js';
import { loadShop, mutateShop } from '../test/support/shop.js';
import { cpuNow } from './contenders/types.js';
import type { DocHistoryResult } from './report.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const DOCS = arg('docs', 100_000);
const COMMITS = arg('commits', 100);
const EVERY = arg('every', 10);
const author = { name: 'Bench', email: 'bench@example.com' };
const log = (s: string) => process.stderr.write(`[doc-history] ${s}\n`);

const server = await startMongoServer();
const work = await mkdtemp(join(os.tmpdir(), 'dbsnap-dochistory-'));
const client = await MongoClient.connect(server.uri, { socketTimeoutMS: 0, serverSelectionTimeoutMS: 600_000 });
try {
  const db = client.db('bench_history');
  await db.dropDatabase();
  log(`loading ${DOCS} documents`);
  await loadShop(db, { totalDocs: DOCS, seed: 1 });
  const uri = `${server.uri.replace(/\/?(\?|$)/, '/bench_history$1')}`;
  const repo = join(work, 'repo');
  await init({ repo, author });
  await commit({ repo, uri, author, message: 'initial' });
  await mutateShop(db, { fraction: 0.001, seed: 2 });
  let cpu = cpuNow();
  await commit({ repo, uri, author, message: '0.1% changed' });
  const commitCpuMs = cpuNow() - cpu;
  log(`one commit after 0.1% changed: ${commitCpuMs.toFixed(0)} ms CPU`);

  const users = db.collection('users');
  const ids = (await users.find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((d) => d._id);
  const watched = ids[Math.floor(ids.length / 2)];
  let watchedChanges = 0;
  for (let i = 1; i <= COMMITS; i++) {
    // Two other users per commit, spread over the collection, and the watched one every EVERY commits.
    for (const k of [i * 7919, i * 104729]) await users.updateOne({ _id: ids[k % ids.length] }, { $set: { revision: i } });
    if (i % EVERY === 0) {
      await users.updateOne({ _id: watched }, { $set: { revision: i, note: `change ${i}` } });
      watchedChanges++;
    }
    await commit({ repo, uri, author, message: `step ${i}`, collections: ['users'] });
    if (i % 10 === 0) log(`${i}/${COMMITS} commits`);
  }

  cpu = cpuNow();
  const h = await documentHistory({ repo, collection: 'users', id: watched });
  const historyCpuMs = cpuNow() - cpu;
  const changedVersions = h.versions.length;
  const result: DocHistoryResult = {
    docs: DOCS,
    commits: h.stats.commits,
    versions: changedVersions,
    watchedChanges,
    commitsExamined: h.stats.commitsExamined,
    partsRead: h.stats.partsRead,
    partsPerVersion: +(h.stats.partsRead / changedVersions).toFixed(2),
    historyCpuMs: Math.round(historyCpuMs),
    commitCpuMs: Math.round(commitCpuMs),
    ratioToCommit: +(historyCpuMs / commitCpuMs).toFixed(3),
  };
  console.log(JSON.stringify(result));
} finally {
  await client.close();
  await server.stop();
  await rm(work, { recursive: true, force: true });
}
