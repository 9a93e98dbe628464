/**
 * npm run demo: the main job on an embedded MongoDB. Starts a server (see test/support/mongo-server.ts),
 * loads the sample shop, and runs the real dbsnap binary the way a person would, printing each
 * command and its output.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startMongoServer } from '../test/support/mongo-server.js';
import { loadShop, mutateShop } from '../test/support/shop.js';

const BIN = new URL('../bin/dbsnap.js', import.meta.url).pathname;
const SEED_BACKUP = new URL('../test/fixtures/seed-backup/', import.meta.url).pathname;
const docs = Number(process.env.DEMO_DOCS ?? 2000);

const server = await startMongoServer();
const work = mkdtempSync(join(tmpdir(), 'dbsnap-demo-'));
const repo = join(work, 'backup-repo');
const uriFor = (db: string) => {
  const u = new URL(server.uri);
  u.pathname = `/${db}`;
  return u.toString();
};
const shopUri = uriFor('shop');
let failed = false;

/** Runs the real binary. Asynchronously: the embedded server may live in this very process. */
async function dbsnap(args: string[], opts: { expectExit?: number } = {}): Promise<void> {
  console.log(`\n$ dbsnap ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, MONGODB_URI: shopUri, DBSNAP_REPO: repo },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  if (code !== (opts.expectExit ?? 0)) {
    console.error(`demo: dbsnap ${args[0]} exited with ${code}`);
    failed = true;
  }
}

const client = new MongoClient(shopUri);
try {
  console.log(`MongoDB: ${server.description}`);
  console.log(`Snapshot repository: ${repo}`);
  console.log(`MONGODB_URI=${shopUri} DBSNAP_REPO=${repo}`);
  await client.connect();
  const db = client.db('shop');
  const sizes = await loadShop(db, { totalDocs: docs, seed: 1 });
  console.log(`Loaded the sample shop: ${JSON.stringify(sizes)}`);

  await dbsnap(['init']);
  await dbsnap(['commit', '-m', 'Initial shop data']);
  await dbsnap(['commit']);

  await dbsnap(['tag', 'v1', '-m', 'Initial shop data']);

  const changed = await mutateShop(db, { fraction: 0.005, seed: 2 });
  await db.collection('users').createIndex({ lastName: 1, firstName: 1 });
  console.log(`\nChanged some documents: ${JSON.stringify(changed)}, and added an index`);
  await dbsnap(['status'], { expectExit: 1 });
  await dbsnap(['commit', '-m', 'Price and stock updates']);
  await dbsnap(['diff', 'v1', 'HEAD', '--stat']);
  await dbsnap(['diff', 'v1', 'HEAD', '--collections', 'products', '--limit', '2']);
  await dbsnap(['log']);
  await dbsnap(['show', 'HEAD']);

  // The seed's "check relationships between collections" and "verify data integrity".
  await dbsnap(['relations', '--infer', '--accept']);
  await dbsnap(['verify']);

  // A partial restore into the live database: products go back to v1; the replaced state is kept.
  await dbsnap(['restore', 'v1', '--collections', 'products', '--yes']);
  await dbsnap(['status'], { expectExit: 1 });
  await dbsnap(['diff', '--format', 'markdown', '--limit', '1']);

  // The seed's restore procedure: put the first snapshot into a second database, then verify it.
  await dbsnap(['restore', 'v1', '--db', 'shop_restored', '--dry-run']);
  await dbsnap(['restore', 'v1', '--db', 'shop_restored', '--yes']);
  await dbsnap(['verify', 'v1', '--uri', uriFor('shop_restored')]);

  // A risky operation between two snapshots: tagged before/after, its changes summed up.
  // (npm runs the demo from the project root, where the script lives.)
  await dbsnap(['run', '-m', 'migration 042', '--tag', 'migration-042', '--', 'node', 'scripts/demo-migration.mjs']);

  // The seed's "regularly test restore procedures": a restore drill, recorded in the repository.
  await dbsnap(['drill']);
  await dbsnap(['log', '-n', '2']);

  // Handing a snapshot to other tools: a mongodump directory mongorestore reads.
  await dbsnap(['export', 'v1', join(work, 'dump'), '--gzip']);

  // Coming from the seed's backup folder (JSON arrays a script wrote: ObjectIds and dates as
  // strings): imported into a second repository, the types inferred field by field, and the
  // references the seed kept found again.
  const seedRepo = join(work, 'seed-repo');
  await dbsnap(['init', '--repo', seedRepo]);
  await dbsnap(['import', SEED_BACKUP, '--repo', seedRepo, '--db', 'shop', '-m', 'The old backup folder']);
  await dbsnap(['relations', '--infer', '--repo', seedRepo]);

  // Several locations: a second disk (here a temp directory) as a remote, and the way back on
  // a new machine: a fresh clone of it, restored and verified against what was pushed.
  const nas = join(work, 'nas', 'shop-data.git');
  const fresh = join(work, 'new-machine', 'backup-repo');
  await dbsnap(['remote', 'add', 'nas', nas]);
  await dbsnap(['push']);
  await dbsnap(['push']);
  await dbsnap(['clone', nas, fresh]);
  await dbsnap(['log', '-n', '3', '--repo', fresh]);
  await dbsnap(['restore', 'v1', '--repo', fresh, '--db', 'shop_from_clone', '--yes']);
  await dbsnap(['verify', 'v1', '--repo', fresh, '--uri', uriFor('shop_from_clone')]);
} finally {
  await client.close();
  await server.stop();
}
if (failed) process.exit(1);
console.log(`\nDone. Explore it: DBSNAP_REPO=${repo} npx dbsnap log`);
