/** The `rekey` operation: re-encrypts the sensitive fields at HEAD under a new key as a new commit. */
import { serializeDocument } from '../canonical/bson-serializer.js';
import { readPartFile } from '../canonical/document-reader.js';
import { encodeCollection } from '../canonical/encode-collection.js';
import {
  collectionDir,
  CONFIG_FILE,
  MANIFEST_FILE,
  metadataText,
  type CollectionEntry,
} from '../canonical/format.js';
import { decryptDocument, encryptDocument, fieldsForCollection, parseKey, parseSensitiveFields, type KeyMaterial } from '../crypto/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import type { TreeEntryInput } from '../store/index.js';
import { commitTree, withLockedHead } from './commit-tree.js';
import type { Identity, ProgressCallback } from './progress.js';
import { loadKey } from './sensitive.js';
import { openSnapshot, partBlobs, readCollectionEntry, readManifest } from './snapshot.js';

export interface RekeyOptions {
  repo: string;
  /** The key the sensitive fields are encrypted with now (not needed if none are yet). */
  oldKey?: KeyMaterial;
  /** The new key (64 hex characters or base64 of 32 bytes). */
  newKey: KeyMaterial;
  author?: Identity;
  now?: Date;
  onProgress?: ProgressCallback;
}

export interface RekeyResult {
  commit: string;
  keyId: string;
  previousKeyId?: string;
  collections: string[];
  documents: number;
  /** True when the new key is the key in use and every value was already encrypted with it in the current format: no commit, `commit` is HEAD. */
  unchanged?: boolean;
}

/**
 * Re-encrypts the sensitive fields of the snapshot at HEAD under a new key, as a new commit
 * (history is not rewritten: older commits stay readable with the old key). Fields configured as
 * sensitive but still stored in plaintext at HEAD are encrypted by the same step. When the new key
 * is the key already in use and every value is already encrypted in the current format, no commit
 * is made and HEAD stays where it is (`unchanged: true`).
 *
 * @example
 * await rekey({ repo: 'backup-repo', oldKey: process.env.OLD_KEY, newKey: process.env.DBSNAP_KEY! });
 */
export async function rekey(opts: RekeyOptions): Promise<RekeyResult> {
  return withLockedHead(opts.repo, 'rekey', async ({ repo, config, head, ref }) => {
    const oldKey = config.keyId ? loadKey(config, named(opts.oldKey, 'the old key')) : undefined;
    if (config.keyId && !oldKey) {
      throw new InvalidArgumentError(
        `the repository's sensitive fields are encrypted with key ${config.keyId}; give that key as the old key (--old-key-file).`,
      );
    }
    const { text, source } = named(opts.newKey, 'the new key');
    const newKey = parseKey(text, source);
    const spec = parseSensitiveFields(config.sensitive);
    const snap = await openSnapshot(repo, head);
    const manifest = await readManifest(snap);
    const replaced = new Map<string, TreeEntryInput[]>();
    const done: string[] = [];
    let documents = 0;
    for (const name of Object.keys(manifest.collections)) {
      const paths = fieldsForCollection(spec, name);
      if (paths.length === 0) continue;
      const entry = await readCollectionEntry(snap, name);
      const dir = collectionDir(name);
      const files: TreeEntryInput[] = [];
      const source = async function* () {
        for (const p of partBlobs(snap, entry)) {
          const docs = readPartFile((await repo.readBlob(p.oid)).toString('utf8'), p.path);
          for (const d of docs) {
            const plain = oldKey ? decryptDocument(d, oldKey, { collection: name }) : d;
            yield serializeDocument(encryptDocument(plain, paths, newKey).doc);
          }
        }
      };
      opts.onProgress?.({ phase: 'write', collection: name, done: 0, total: entry.documents });
      const encoded = await encodeCollection(
        source(),
        { partBits: config.partBits, maxPartBytes: config.maxPartBytes, sortKeys: config.sortKeys },
        async (part) => {
          files.push({ path: `${dir}/parts/${part.name}`, oid: await repo.writeBlob(part.data) });
        },
      );
      const next: CollectionEntry = {
        ...entry,
        documents: encoded.documents,
        sha256: encoded.sha256,
        parts: [...encoded.parts.asEntries()],
      };
      files.push({ path: `${dir}/collection.json`, oid: await repo.writeBlob(metadataText(next)) });
      replaced.set(dir, files);
      manifest.collections[name] = { ...manifest.collections[name]!, sha256: encoded.sha256, parts: next.parts.length };
      done.push(name);
      documents += encoded.documents;
    }
    const previousKeyId = config.keyId;
    config.keyId = newKey.id;
    const tree: TreeEntryInput[] = [];
    for (const [path, oid] of snap.files) {
      const dir = [...replaced.keys()].find((d) => path.startsWith(`${d}/`));
      if (dir || path === CONFIG_FILE || path === MANIFEST_FILE) continue;
      tree.push({ path, oid });
    }
    for (const files of replaced.values()) tree.push(...files);
    tree.push({ path: CONFIG_FILE, oid: await repo.writeBlob(metadataText(config)) });
    tree.push({ path: MANIFEST_FILE, oid: await repo.writeBlob(metadataText(manifest)) });
    // The same key over values already in the current format (AES-SIV is deterministic) gives
    // HEAD's own tree back: no commit for nothing.
    if (tree.length === snap.files.size && tree.every((e) => snap.files.get(e.path) === e.oid)) {
      return { commit: head, keyId: newKey.id, ...(previousKeyId ? { previousKeyId } : {}), collections: [], documents: 0, unchanged: true };
    }
    const commit = await commitTree(repo, {
      ref,
      parent: head,
      tree,
      message: `dbsnap rekey: sensitive fields under key ${newKey.id}\n\nDbsnap-Rekeyed: ${done.join(', ') || '(none)'}\nDbsnap-Key-Id: ${newKey.id}\n`,
      author: opts.author,
      now: opts.now,
    });
    return { commit, keyId: newKey.id, ...(previousKeyId ? { previousKeyId } : {}), collections: done, documents };
  });
}

/** Key material with its source; text alone is named by its role (`the old key`). */
function named(material: KeyMaterial, role: string): { text: string; source: string };
function named(material: KeyMaterial | undefined, role: string): { text: string; source: string } | undefined;
function named(material: KeyMaterial | undefined, role: string): { text: string; source: string } | undefined {
  return typeof material === 'string' ? { text: material, source: role } : material;
}
