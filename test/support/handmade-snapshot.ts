/**
 * Builds a snapshot commit from documents given as BSON bytes, through the same encoder commit
 * uses, for tests that need data no driver can insert (the deprecated BSON types).
 */
import { createHash } from 'node:crypto';
import { encodeCollection } from '../../src/canonical/encode-collection.js';
import { collectionDir, defaultConfig, FORMAT_VERSION, MANIFEST_FILE, metadataText, type CollectionEntry } from '../../src/canonical/format.js';
import { SnapshotRepository, type TreeEntryInput } from '../../src/store/index.js';

/**
 * `rewrite` edits each part's text before it is stored (hashes follow), for snapshots holding
 * what commit refuses to write (a duplicated field name).
 */
export async function commitHandmadeSnapshot(repoDir: string, collection: string, docs: Uint8Array[], rewrite?: (text: string) => string): Promise<string> {
  const repo = await SnapshotRepository.open(repoDir);
  const head = (await repo.head()).oid!;
  const files = await repo.listFiles(head);
  const cfg = defaultConfig();
  const dir = collectionDir(collection);
  const tree: TreeEntryInput[] = [...files].filter(([p]) => p !== MANIFEST_FILE && !p.startsWith('collections/')).map(([path, oid]) => ({ path, oid }));
  const rewritten = new Map<string, { sha256: string; bytes: number }>();
  const whole = createHash('sha256');
  const encoded = await encodeCollection(docs, { partBits: cfg.partBits, maxPartBytes: cfg.maxPartBytes, sortKeys: false }, async (part) => {
    const text = rewrite ? rewrite(part.text) : part.text;
    const buf = Buffer.from(text, 'utf8');
    whole.update(buf);
    rewritten.set(part.name, { sha256: createHash('sha256').update(buf).digest('hex'), bytes: buf.length });
    tree.push({ path: `${dir}/parts/${part.name}`, oid: await repo.writeBlob(text) });
  });
  let parts = Array.from(encoded.parts);
  if (rewrite) {
    encoded.sha256 = whole.digest('hex');
    parts = parts.map((p) => ({ ...p, ...rewritten.get(p.name)! }));
  }
  const entry: CollectionEntry = {
    name: collection,
    type: 'collection',
    options: {},
    indexes: [{ v: { $numberInt: '2' }, key: { _id: { $numberInt: '1' } }, name: '_id_' }],
    documents: encoded.documents,
    sha256: encoded.sha256,
    parts: parts.map((p) => ({ file: `parts/${p.name}`, documents: p.documents, bytes: p.bytes, sha256: p.sha256 })),
  };
  tree.push({ path: `${dir}/collection.json`, oid: await repo.writeBlob(metadataText(entry)) });
  const manifest = {
    format: 'dbsnap',
    formatVersion: FORMAT_VERSION,
    documents: encoded.documents,
    collections: { [collection]: { type: 'collection', documents: encoded.documents, parts: entry.parts.length, sha256: encoded.sha256 } },
  };
  tree.push({ path: MANIFEST_FILE, oid: await repo.writeBlob(metadataText(manifest)) });
  const commit = await repo.writeCommit({
    tree: await repo.writeTree(tree),
    parents: [head],
    message: 'handmade\n',
    author: { name: 'Test', email: 'test@example.com', timestamp: 1735787045, timezoneOffset: 0 },
  });
  await repo.updateRef((await repo.head()).ref, commit, head);
  return commit;
}
