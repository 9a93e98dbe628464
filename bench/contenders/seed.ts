/**
 * The seed's way: each collection with find().toArray(), JSON.stringify(docs, null, 2) into one
 * file per collection, then native `git add -A && git commit`. The parent runs `git init` first.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import type { Contender } from './types.js';

const run = promisify(execFile);

export const seedWay: Contender = async (p) => {
  const started = performance.now();
  const client = await MongoClient.connect(p.uri);
  let documents = 0;
  try {
    const db = client.db(p.db);
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    for (const name of names) {
      const docs = await db.collection(name).find().toArray();
      documents += docs.length;
      await writeFile(join(p.dir, `${name}.json`), JSON.stringify(docs, null, 2));
    }
  } finally {
    await client.close();
  }
  const env = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };
  await run('git', ['add', '-A'], { cwd: p.dir, env });
  await run('git', ['commit', '-q', '-m', 'snapshot'], { cwd: p.dir, env });
  return { ms: performance.now() - started, info: { documents } };
};
