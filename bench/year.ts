/**
 * `npx tsx bench/year.ts [--docs 10000] [--hours 8760] [--change 0.001] [--gc-every 24]`:
 * a simulated year of hourly snapshots, to estimate what `dbsnap gc` keeps a repository at.
 *
 * No MongoDB here: the sample shop's documents (test/support/shop.ts) are written as Extended
 * JSON lines, 32 to a part file, straight through the store (the same blob/tree/commit writers
 * `commit` uses); each hour `--change` of them get a new `updatedAt` and revision field, and
 * every `--gc-every` hours the repository is packed. It prints objects/ size along the way and
 * the per-commit growth, which scales with the number of changed documents (docs x change).
 * See docs/BENCHMARKS.md for how the 1M estimate is derived from it.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { EJSON, type Document } from 'bson';
import { gc } from '../src/core/gc.js';
import { SnapshotRepository } from '../src/store/index.js';
import { generateShop, Rng } from '../test/support/shop.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const DOCS = arg('docs', 10_000);
const HOURS = arg('hours', 8760);
const CHANGE = arg('change', 0.001);
const GC_EVERY = arg('gc-every', 24);
const PART_DOCS = 32;

async function objectsBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(join(dir, 'objects'), { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

function rng(seed: number): () => number {
  const r = new Rng().reseed(seed);
  return () => r.next();
}

const work = await mkdtemp(join(os.tmpdir(), 'dbsnap-year-'));
const dir = join(work, 'repo');
try {
  const { repo } = await SnapshotRepository.init(dir);
  const collections = new Map<string, Document[]>();
  for (const { collection, docs } of generateShop({ totalDocs: DOCS, seed: 1, batchSize: 1000 })) {
    const list = collections.get(collection) ?? [];
    list.push(...docs);
    collections.set(collection, list);
  }
  const all: { collection: string; index: number }[] = [];
  for (const [name, docs] of collections) docs.forEach((_, index) => all.push({ collection: name, index }));
  // Blob id of every part, re-rendered only when one of its documents changes.
  const parts = new Map<string, string>();
  const renderPart = async (collection: string, p: number) => {
    const docs = collections.get(collection)!.slice(p * PART_DOCS, (p + 1) * PART_DOCS);
    const text = docs.map((d) => EJSON.stringify(d, { relaxed: false })).join('\n') + '\n';
    parts.set(`collections/${collection}/parts/p${String(p).padStart(6, '0')}.json`, await repo.writeBlob(text));
  };
  for (const [name, docs] of collections) for (let p = 0; p * PART_DOCS < docs.length; p++) await renderPart(name, p);

  const random = rng(42);
  const author = { name: 'bench', email: 'bench@example.com', timezoneOffset: 0 };
  let parent: string | null = null;
  let firstPacked = 0;
  let cpu = process.cpuUsage();
  let gcCpuMs = 0;
  const perChange = Math.max(1, Math.round(DOCS * CHANGE));
  const t0 = Date.UTC(2026, 0, 1) / 1000;
  for (let hour = 0; hour < HOURS; hour++) {
    if (hour > 0) {
      const dirty = new Set<string>();
      for (let k = 0; k < perChange; k++) {
        const { collection, index } = all[Math.floor(random() * all.length)]!;
        const doc = collections.get(collection)![index]!;
        doc.updatedAt = new Date((t0 + hour * 3600) * 1000);
        doc.revision = ((doc.revision as number | undefined) ?? 0) + 1;
        dirty.add(`${collection}\0${Math.floor(index / PART_DOCS)}`);
      }
      for (const key of dirty) {
        const [collection, p] = key.split('\0') as [string, string];
        await renderPart(collection, Number(p));
      }
    }
    const manifest = await repo.writeBlob(`{"hour": ${hour}}\n`);
    const tree = await repo.writeTree([{ path: 'manifest.json', oid: manifest }, ...[...parts].map(([path, oid]) => ({ path, oid }))]);
    const commit: string = await repo.writeCommit({ tree, parents: parent ? [parent] : [], message: `hour ${hour}`, author: { ...author, timestamp: t0 + hour * 3600 } });
    await repo.updateRef('refs/heads/main', commit, parent);
    parent = commit;
    if (hour === 0 || (hour + 1) % GC_EVERY === 0 || hour === HOURS - 1) {
      const g0 = process.cpuUsage();
      const r = await gc({ repo: dir });
      const g = process.cpuUsage(g0);
      gcCpuMs += (g.user + g.system) / 1000;
      const bytes = await objectsBytes(dir);
      if (hour === 0) firstPacked = bytes;
      if (hour === 0 || (hour + 1) % (GC_EVERY * 30) === 0 || hour === HOURS - 1) {
        const c = process.cpuUsage(cpu);
        console.log(
          `hour ${String(hour + 1).padStart(5)}: objects/ ${(bytes / 2 ** 20).toFixed(2)} MB ` +
            `(+${hour === 0 ? 0 : (((bytes - firstPacked) / hour / firstPacked) * 100).toFixed(3)}% of the first packed snapshot per commit), ` +
            `last gc ${r.looseObjects} new objects, ${r.deltas} deltas, ${r.durationMs} ms; CPU so far ${((c.user + c.system) / 1e6).toFixed(0)} s (gc ${(gcCpuMs / 1000).toFixed(0)} s)`,
        );
      }
    }
  }
  const bytes = await objectsBytes(dir);
  const perCommit = (bytes - firstPacked) / (HOURS - 1);
  console.log(
    JSON.stringify({
      docs: DOCS,
      hours: HOURS,
      changePerHour: CHANGE,
      changedDocsPerHour: perChange,
      gcEvery: GC_EVERY,
      firstPackedBytes: firstPacked,
      finalBytes: bytes,
      perCommitBytes: Math.round(perCommit),
      perCommitPercentOfFirst: (perCommit / firstPacked) * 100,
      perChangedDocBytes: Math.round(perCommit / perChange),
    }),
  );
  cpu = process.cpuUsage(cpu);
} finally {
  await rm(work, { recursive: true, force: true });
}
