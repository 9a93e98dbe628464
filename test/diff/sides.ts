/** Builds in-memory CollectionSides for diff tests: parts cut by a rule on _id, loads recorded. */
import { createHash } from 'node:crypto';
import { BSON, type Document } from 'bson';
import type { CollectionMeta, CollectionSide, PartRef } from '../../src/diff/index.js';

export interface SideOptions {
  /** True when this document starts a new part (content-defined, like the real cutter). */
  startsPart?: (doc: Document) => boolean;
  meta?: Partial<CollectionMeta>;
  /** Receives `label:partName` on every load(). */
  loads?: string[];
  label?: string;
}

export function blobIdOf(docs: Document[]): string {
  const h = createHash('sha1');
  for (const d of docs) h.update(BSON.serialize(d));
  return h.digest('hex');
}

export function makeSide(name: string, docs: Document[], opts: SideOptions = {}): CollectionSide {
  const startsPart = opts.startsPart ?? (() => false);
  const groups: { name: string; docs: Document[] }[] = [];
  for (const doc of docs) {
    if (groups.length === 0) groups.push({ name: 'p-first', docs: [] });
    else if (startsPart(doc)) groups.push({ name: `p-${String(doc._id)}`, docs: [] });
    groups.at(-1)!.docs.push(doc);
  }
  const parts: PartRef[] = groups.map((g) => ({
    name: g.name,
    blobId: blobIdOf(g.docs),
    count: g.docs.length,
    load: async () => {
      opts.loads?.push(`${opts.label ?? name}:${g.name}`);
      // A fresh copy, as a real load would decode one.
      return BSON.deserialize(BSON.serialize({ d: g.docs }), { promoteValues: false, bsonRegExp: true }).d as Document[];
    },
  }));
  return {
    name,
    meta: { type: 'collection', options: {}, indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }], ...opts.meta },
    parts,
  };
}
