/**
 * A replace restore that stops on the snapshot itself (a value the driver cannot write, found while
 * loading) after its temporary collection was created: the message keeps the error's code but says
 * what is true of the target now, checked. "Nothing was changed" only when the temporary
 * collection was dropped and listed gone; when it could not be dropped, its name and the command
 * that removes it (issue #10).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeDocument } from '../../src/canonical/bson-serializer.js';
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
  // Sound bytes and hashes; the second document holds Undefined, which only the load refuses in replace mode.
  await commitHandmadeSnapshot(repo, 'legacy', [BSON.serialize({ _id: 1, ok: true }), serializeDocument({ _id: 2, legacy: { gone: undefined } })]);
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
    expect(error.code).toBe('EUNSUPPORTED');
    expect(error.message).toMatch(/legacy document \{"_id":2\} holds Undefined at legacy\.gone, [^;]*; every target collection is as it was; its temporary collection was dropped\. Restore this collection with mongorestore/);
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
    expect(r.stderr).toMatch(/^error: legacy document [^\n]* holds Undefined at legacy\.gone, [^\n]*; every target collection is as it was; 1 temporary collection could not be dropped or checked \(__dbsnap_tmp_\w+\); the next dbsnap restore into \w+ drops it, or run: dbsnap restore --cleanup --db \w+\. Restore this collection with mongorestore/);
    expect(r.stderr).toContain(`(${left[0]})`);
    expect(r.stderr).toContain(`--cleanup --db ${t.dbName}.`);
    expect(await t.db.collection('legacy').find().toArray()).toEqual([{ _id: 1, before: 'restore' }]);

    // The command it names removes it.
    const clean = await runDbsnap(['restore', '--cleanup', '--uri', t.dbUri]);
    expect(clean.code, clean.stderr).toBe(0);
    expect(await temps()).toEqual([]);
  });
});
