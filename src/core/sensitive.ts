/**
 * Sensitive fields (dbsnap.json `sensitive`): the document rewrites commit and restore apply, so
 * that the values never reach git in plaintext. See docs/FORMAT.md, "Encrypted fields".
 */
import { BSON, type Document } from 'bson';
import type { RepositoryConfig } from '../canonical/format.js';
import {
  decryptDocument,
  encryptDocument,
  EXACT_DECODE_OPTIONS,
  fieldsForCollection,
  keyMaterialParts,
  maskDocument,
  parseKey,
  parseSensitiveFields,
  type DbsnapKey,
  type KeyMaterial,
} from '../crypto/index.js';
import { KeyError } from '../errors/index.js';

/** Collections with sensitive fields, as `collection.path` names for messages. */
export function sensitiveFieldNames(config: RepositoryConfig, collections?: string[]): string[] {
  const out: string[] = [];
  for (const [c, paths] of Object.entries(config.sensitive ?? {})) {
    if (collections && !collections.includes(c)) continue;
    for (const p of paths) out.push(`${c}.${p}`);
  }
  return out;
}

/**
 * Parses the key and checks it is the one the repository's sensitive fields are encrypted with;
 * errors name the key's source. Returns undefined when no key was given.
 */
export function loadKey(config: RepositoryConfig, material: KeyMaterial | undefined): DbsnapKey | undefined {
  if (material === undefined) return undefined;
  const { text, source } = keyMaterialParts(material);
  if (text.trim() === '') return undefined;
  const key = parseKey(text, source);
  if (config.keyId && key.id !== config.keyId) {
    throw new KeyError(
      `wrong key: the repository's sensitive fields are encrypted with key ${config.keyId}, but ${source} is key ${key.id}.`,
      { expectedKeyId: config.keyId, actualKeyId: key.id },
    );
  }
  return key;
}

/**
 * The shared shape of commit's and restore's rewrites: the key is required as soon as any selected
 * collection has sensitive fields, and each such collection gets the rewrite `make` builds.
 */
function perCollection<T>(
  config: RepositoryConfig,
  material: KeyMaterial | undefined,
  collections: string[] | undefined,
  missingKey: (fields: string[]) => string,
  make: (paths: readonly string[], key: DbsnapKey, collection: string) => T,
  inData?: ReadonlyMap<string, readonly string[]>,
): { key?: DbsnapKey; transformFor: (collection: string) => T | undefined } {
  const spec = parseSensitiveFields(config.sensitive ?? {});
  const declared = sensitiveFieldNames(config, collections);
  // Encrypted values found in the snapshot that its config does not declare (the config was
  // changed after the commit) need the key just the same.
  const undeclared: string[] = [];
  for (const [c, paths] of inData ?? []) {
    for (const p of paths) if (!declared.includes(`${c}.${p}`)) undeclared.push(`${c}.${p}`);
  }
  const names = [...declared, ...undeclared.map((n) => `${n} (encrypted in the snapshot, not declared in its dbsnap.json)`)];
  const key = loadKey(config, material);
  if (names.length > 0 && !key) throw new KeyError(missingKey(names), { fields: [...declared, ...undeclared] });
  return {
    ...(key ? { key } : {}),
    transformFor: (collection) => {
      const paths = [...new Set([...fieldsForCollection(spec, collection), ...(inData?.get(collection) ?? [])])];
      return key && paths.length > 0 ? make(paths, key, collection) : undefined;
    },
  };
}

/**
 * For each collection, the rewrite commit applies before writing (field encryption), or undefined
 * where the collection has no sensitive fields. Fails up front, naming the fields, when sensitive
 * fields are configured and no key was given.
 */
export function buildDocumentTransform(
  config: RepositoryConfig,
  material: KeyMaterial | undefined,
  collections?: string[],
  encrypted?: ReadonlyMap<string, readonly string[]>,
): { key?: DbsnapKey; transformFor: (collection: string) => ((doc: Uint8Array) => Document | Uint8Array) | undefined } {
  return perCollection(
    config,
    material,
    collections,
    (names) => `sensitive fields ${names.join(', ')} are stored encrypted; set DBSNAP_KEY or pass --key-file (the key is never stored in the repository).`,
    (paths, key) => (raw: Uint8Array) => encryptDocument(BSON.deserialize(raw, EXACT_DECODE_OPTIONS), paths, key).doc,
    encrypted,
  );
}

/**
 * For each collection, the rewrite restore applies to snapshot documents: decrypt with the key,
 * then with `mask` replace the sensitive values by pseudonyms shaped like the originals.
 */
export function buildRestoreTransform(
  config: RepositoryConfig,
  material: KeyMaterial | undefined,
  opts: { mask?: boolean; collections?: string[]; encrypted?: ReadonlyMap<string, readonly string[]> } = {},
): { key?: DbsnapKey; transformFor: (collection: string) => ((doc: Document) => Document) | undefined } {
  return perCollection(
    config,
    material,
    opts.collections,
    (names) =>
      `the snapshot holds encrypted fields (${names.join(', ')}); set DBSNAP_KEY or pass --key-file to restore them` +
      `${opts.mask ? ' (masking needs the key too: pseudonyms are derived from the real values)' : ''}.`,
    (paths, key, collection) => (doc: Document) => {
      const plain = decryptDocument(doc, key, { collection });
      return opts.mask ? maskDocument(plain, paths, key) : plain;
    },
    opts.encrypted,
  );
}

