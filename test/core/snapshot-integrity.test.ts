import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { collectionDir, MANIFEST_FILE, metadataText } from '../../src/canonical/format.js';
import { restore } from '../../src/core/restore.js';
import { checkParts, type IntegrityEvent } from '../../src/core/snapshot-integrity.js';
import { openSnapshot, readCollectionEntry } from '../../src/core/snapshot.js';
import { verify } from '../../src/core/verify.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { commitHandmadeSnapshot } from '../support/handmade-snapshot.js';
import { FIXED, useTempRepository } from '../support/temp-repo.js';

let repo = '';
useTempRepository('integrity', (r) => (repo = r.repo));

// Nothing listens here: a restore that got as far as connecting would fail with ECONNECT, not ECORRUPT.
const NOWHERE = 'mongodb://127.0.0.1:1/target?serverSelectionTimeoutMS=500';

async function collect(events: AsyncIterable<IntegrityEvent>): Promise<IntegrityEvent[]> {
  const out: IntegrityEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('the snapshot integrity checker', () => {
  it('yields every problem of a collection as data, in reading order, and the parts it read', async () => {
    // Written as given (not sorted): one part whose _ids go 1, 3, 2, 2.
    await commitHandmadeSnapshot(repo, 'items', [1, 3, 2, 2].map((_id) => BSON.serialize({ _id })));
    const snap = await openSnapshot(await SnapshotRepository.open(repo), 'HEAD');
    const entry = await readCollectionEntry(snap, 'items');
    const file = `${collectionDir('items')}/${entry.parts[0]!.file}`;
    const events = await collect(checkParts(snap, entry));
    expect(events.filter((e) => 'problem' in e).map((e) => 'problem' in e && e.problem)).toEqual([
      { kind: 'order', collection: 'items', file, message: `${file} document 2 has a smaller _id than ${file} document 1: documents are not in _id order.` },
      { kind: 'order', collection: 'items', file, message: `${file} document 3 repeats the _id of ${file} document 2: duplicate _id.` },
    ]);
    const parts = events.flatMap((e) => ('part' in e ? [e.part] : []));
    expect(parts.map((p) => [p.file, p.documents, p.bytes])).toEqual([[file, 4, entry.parts[0]!.bytes]]);
  });

  it('verify collects those problems; restore stops at the first, before connecting to the target', async () => {
    await commitHandmadeSnapshot(repo, 'items', [1, 3, 2, 2].map((_id) => BSON.serialize({ _id })));
    const report = await verify({ repo, checkPermissions: false });
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).toEqual(['order', 'order']);
    // merge mode decodes every document before connecting; the first problem is the error.
    await expect(restore({ repo, ref: 'HEAD', uri: NOWHERE, mode: 'merge', ...FIXED })).rejects.toMatchObject({
      code: 'ECORRUPT',
      data: { kind: 'order', collection: 'items', path: report.problems[0]!.file },
      message: expect.stringContaining(report.problems[0]!.message),
    });
  });

  it('checks the shape of collection.json for restore as it does for verify', async () => {
    await commitHandmadeSnapshot(repo, 'items', [1, 2].map((_id) => BSON.serialize({ _id })));
    const r = await SnapshotRepository.open(repo);
    const head = await r.head();
    const files = await r.listFiles(head.oid!);
    const entryPath = `${collectionDir('items')}/collection.json`;
    const entry = JSON.parse((await r.readBlob(files.get(entryPath)!)).toString('utf8'));
    entry.parts[0].sha256 = 42; // not a string: no longer a collection entry
    files.set(entryPath, await r.writeBlob(metadataText(entry)));
    expect(files.has(MANIFEST_FILE)).toBe(true);
    const tree = await r.writeTree([...files].map(([path, oid]) => ({ path, oid })));
    const c = await r.writeCommit({ tree, parents: [head.oid!], message: 'by hand\n', author: { name: 'h', email: 'h@x', timestamp: 1, timezoneOffset: 0 } });
    await r.updateRef(head.ref, c, head.oid);

    const report = await verify({ repo, checkPermissions: false });
    expect(report.problems[0]).toEqual({
      kind: 'parse',
      collection: 'items',
      file: entryPath,
      message: `${entryPath}: not a collection entry for "items" (name, documents, sha256, options, indexes, parts expected).`,
    });
    await expect(restore({ repo, ref: 'HEAD', uri: NOWHERE, ...FIXED })).rejects.toMatchObject({
      code: 'ECORRUPT',
      data: { kind: 'parse', path: entryPath },
      message: expect.stringContaining('not a collection entry for "items"'),
    });
  });
});
