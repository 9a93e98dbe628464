/**
 * A replace restore that stops on the snapshot itself (a part whose hashes agree but whose text
 * names a field twice, found only while loading) after its temporary collection was created: the message keeps the error's code but says
 * what is true of the target now, checked. "Nothing was changed" only when the temporary
 * collection was dropped and listed gone; when it could not be dropped, its name and the command
 * that removes it (issue #10).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { TEMP_PREFIX } from '../../src/mongo/writer.js';
import { commitHandmadeSnapshot } from '../support/handmade-snapshot.js';
import { FIXED } from '../support/temp-repo.js';
import { useTestDatabase, uriWithDatabase, type TestDatabase } from '../support/test-db.js';
import { startFaultProxy, type FaultProxy } from './proxy.js';
import { runDbsnap } from './support.js';

let dir = '';
let repo = '';
let t: TestDatabase;
let proxy: FaultProxy;
let viaProxy = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-loadfail-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
  // Hashes that agree with the bytes; the second document names a field twice, which only the load
  // reads (validation checks the bytes against their hashes).
  await commitHandmadeSnapshot(repo, 'legacy', [BSON.serialize({ _id: 1, ok: true }), BSON.serialize({ _id: 2, gone: 1 })], (text) =>
    text.replace('"gone": 1', '"gone": 1,\n    "gone": 2'),
  );
  t = await useTestDatabase('loadfail');
  await t.db.collection('legacy').insertOne({ _id: 1, before: 'restore' });
  proxy = await startFaultProxy(t.uri);
  viaProxy = `${uriWithDatabase(proxy.uri, t.dbName)}?directConnection=true&serverSelectionTimeoutMS=2000&connectTimeoutMS=2000`;
});
afterAll(async () => {
  await proxy?.close();
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

const temps = async () => (await t.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith(TEMP_PREFIX)).sort();

describe('a replace restore refused by the snapshot while loading', () => {
  it('temporary collection dropped and checked: keeps its code, says so', async () => {
    proxy.plan({});
    const r = await runDbsnap(['restore', 'HEAD', '--repo', repo, '--uri', viaProxy, '--yes', '--no-backup', '--json']);
    expect(r.code).toBe(2);
    const error = JSON.parse(r.stdout).error as { code: string; message: string };
    expect(error.code).toBe('EFORMAT');
    expect(error.message).toMatch(/the field name "gone" appears twice[^\n]*\. Every target collection is as it was; its temporary collection was dropped\.$/);
    expect(await temps()).toEqual([]);
    expect(await t.db.collection('legacy').find().toArray()).toEqual([{ _id: 1, before: 'restore' }]);
  });

  it('temporary collection that cannot be dropped (server gone): names it and the command that removes it, never "nothing was changed"', async () => {
    proxy.plan({ cutOnCommand: 'drop', dead: true });
    const r = await runDbsnap(['restore', 'HEAD', '--repo', repo, '--uri', viaProxy, '--yes', '--no-backup']);
    expect(proxy.tripped()).toBe(true);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/nothing was changed/i);
    const left = await temps();
    expect(left).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: [^\n]*the field name "gone" appears twice[^\n]*\. Every target collection is as it was; 1 temporary collection could not be dropped or checked \(__dbsnap_tmp_\w+\); the next dbsnap restore into \w+ drops it, or run: dbsnap restore --cleanup --db \w+\.\n$/);
    expect(r.stderr).toContain(`(${left[0]})`);
    expect(r.stderr).toContain(`--cleanup --db ${t.dbName}.`);
    expect(await t.db.collection('legacy').find().toArray()).toEqual([{ _id: 1, before: 'restore' }]);

    // The command it names removes it.
    const clean = await runDbsnap(['restore', '--cleanup', '--uri', t.dbUri]);
    expect(clean.code, clean.stderr).toBe(0);
    expect(await temps()).toEqual([]);
  });
});
