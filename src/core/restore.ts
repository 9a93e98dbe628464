/**
 * Restoring a snapshot into a database so that nothing can be lost: the snapshot is validated
 * completely before the target is touched, what will be replaced is committed to a safety ref
 * first, and each collection is loaded and checked in a temporary collection that is only
 * renamed into place once every collection has loaded and verified. This file is the story in
 * order; each step lives in its own restore-*.ts file.
 */
import { ConfirmationRequiredError, InvalidArgumentError, UnsupportedFeatureError } from '../errors/index.js';
import { connect } from '../mongo/connection.js';
import { listCollections } from '../mongo/reader.js';
import { formatSource } from '../mongo/uri.js';
import { countDocuments, dropCollection, listTempCollections, TEMP_PREFIX } from '../mongo/writer.js';
import { lockTarget, type TargetLock } from '../mongo/target-lock.js';
import { SnapshotRepository } from '../store/index.js';
import { danglingReferences } from './restore-dangling.js';
import { mergeCollections, recreateViews, replaceCollections, type LoadContext } from './restore-load.js';
import { planRestore, replacesExisting, type RestoreMode, type TargetCollection } from './restore-plan.js';
import type { RestoreOptions, RestoreResult } from './restore-report.js';
import { checkCollectionNames } from './collection-names.js';
import { safetySnapshot } from './restore-safety.js';
import { checkAborted, checkProtected, selectCollections, validateCollection } from './restore-validate.js';
import { buildDocumentTransform, buildRestoreTransform } from './sensitive.js';
import { openSnapshot, readConfigAt, readHeadConfig, readManifest } from './snapshot.js';

export type { DanglingRelation, RestoredCollection, RestoreMode, RestoreOptions, RestorePlan, RestoreResult } from './restore-report.js';

/**
 * Restores a snapshot into a database.
 *
 * The snapshot is read from git objects and validated in full first (every part parses, counts
 * and hashes match, `_id`s increase); a bad snapshot throws CorruptSnapshotError and changes
 * nothing. In `replace` mode each collection is loaded into a temporary collection with its
 * options and indexes, re-encoded and compared with the snapshot, and only when all of them
 * match are they renamed into place; any failure before that drops the temporary collections
 * and throws RestoreFailedError with every target collection as it was.
 *
 * @example
 * const r = await restore({ repo: 'backup-repo', ref: 'v1', uri: 'mongodb://localhost/shop', confirm: async () => true });
 * console.log(r.summary); // verified: 4 collections, 1000 documents identical to v1
 */
export async function restore(opts: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const mode: RestoreMode = opts.mode ?? 'replace';
  if (mode !== 'replace' && mode !== 'merge') {
    throw new InvalidArgumentError(`--mode must be replace or merge, not "${String(mode)}".`);
  }
  checkCollectionNames(opts.collections, 'restore');
  const repo = await SnapshotRepository.open(opts.repo);
  const { config: headConfig } = await readHeadConfig(repo);
  // Part files are listed one collection at a time, as each is validated and loaded (withParts).
  const snap = await openSnapshot(repo, opts.ref, { parts: false });
  const manifest = await readManifest(snap);
  const config = await readConfigAt(snap);

  checkProtected(opts, headConfig);

  const selected = await selectCollections(snap, manifest, opts.collections);
  const names = selected.map((s) => s.entry.name);
  // Which fields are encrypted is read from the snapshot's values (each is self-describing),
  // so a config changed after the commit can neither hide them nor make restore write ciphertext.
  const encryptedInData = new Map<string, string[]>();
  for (const s of selected) {
    if (s.entry.type === 'view') continue;
    const { encryptedPaths } = await validateCollection(snap, s.entry, undefined, opts, false);
    if (encryptedPaths.length) encryptedInData.set(s.entry.name, encryptedPaths);
  }
  const restoreTransform = buildRestoreTransform(config, opts.key, { mask: opts.mask, collections: names, encrypted: encryptedInData });

  // 1. Validate the whole selection before connecting to the target at all: every part's bytes
  // against its hash. Merge writes straight into the target, so there every document is also
  // parsed and checked now; replace checks each document as it loads it into a temporary
  // collection, which is dropped on any failure, so the target is never touched by a bad snapshot.
  for (const s of selected) {
    if (s.entry.type === 'view') continue;
    if (mode === 'merge') await validateCollection(snap, s.entry, restoreTransform.transformFor(s.entry.name), opts, true);
  }

  // 2. Plan against the target as it is now.
  opts.onProgress?.({ phase: 'connect', done: 0 });
  const conn = await connect({ uri: opts.uri, db: opts.db });
  let targetLock: TargetLock | undefined;
  try {
    const targetInfos = (await listCollections(conn)).filter((c) => !c.name.startsWith(TEMP_PREFIX));
    const target: TargetCollection[] = [];
    for (const info of targetInfos) {
      const counted = names.includes(info.name) && info.type !== 'view';
      target.push({ name: info.name, type: info.type, documents: counted ? await countDocuments(conn, info.name).catch(() => 0) : 0 });
    }
    const plan = planRestore({
      ref: opts.ref,
      commit: snap.commit,
      database: conn.dbName,
      mode,
      entries: selected.map((s) => s.entry),
      target,
      serverVersion: conn.server.version,
    });
    if (plan.unsupported.length > 0) {
      throw new UnsupportedFeatureError(
        `cannot restore into ${conn.dbName}: ${plan.unsupported.map((u) => `${u.collection}: ${u.reason}`).join('; ')}. Nothing was changed.`,
        { unsupported: plan.unsupported },
      );
    }
    const result: RestoreResult = {
      ref: opts.ref,
      commit: snap.commit,
      database: conn.dbName,
      target: formatSource(conn.source),
      mode,
      dryRun: Boolean(opts.dryRun),
      plan,
      cleanedUp: [],
      restored: [],
      verified: { collections: 0, documents: 0 },
      dangling: [],
      warnings: [...plan.warnings],
      durationMs: 0,
    };
    if (opts.dryRun) {
      result.durationMs = Math.round(performance.now() - started);
      return result;
    }
    if (replacesExisting(plan) && opts.confirm && !(await opts.confirm(plan))) {
      throw new ConfirmationRequiredError(`restore of ${opts.ref} into ${conn.dbName} was not confirmed; nothing was changed.`);
    }
    checkAborted(opts.signal, 'nothing was changed');

    // 3. The target's restore lock (a second restore into this database refuses), then the
    // leftovers of a killed run (no live restore can own them now), then the safety snapshot.
    targetLock = await lockTarget(conn, `restore ${opts.ref}`);
    for (const name of await listTempCollections(conn)) {
      await dropCollection(conn, name);
      result.cleanedUp.push(name);
    }
    if (opts.backup !== false && plan.affected.length > 0) {
      result.safetySnapshot = await safetySnapshot(repo, conn, plan, opts);
      const excluded = plan.affected.filter((n) => headConfig.exclude.includes(n));
      if (excluded.length) result.warnings.push(`not in the safety snapshot (excluded by the config): ${excluded.join(', ')}`);
    }
    checkAborted(opts.signal, 'nothing was changed');

    // 4. Load, verify, swap.
    const verifyTransform = opts.mask ? undefined : buildDocumentTransform(config, opts.key, names, encryptedInData).transformFor;
    const ctx: LoadContext = { conn, snap, config, opts, restoreTransform: restoreTransform.transformFor, verifyTransform };
    if (mode === 'replace') await replaceCollections(ctx, selected, plan, result);
    else await mergeCollections(ctx, selected, plan, result);
    await recreateViews(ctx, selected, plan, result);

    // 5. References that now point outside what was restored.
    if (opts.collections?.length) result.dangling = await danglingReferences(conn, headConfig, plan, manifest);

    const identical = opts.mask ? `restored from ${opts.ref} (sensitive fields masked; counts checked)` : `identical to ${opts.ref}`;
    result.summary = `verified: ${result.verified.collections} collection${result.verified.collections === 1 ? '' : 's'}, ${result.verified.documents} document${result.verified.documents === 1 ? '' : 's'} ${identical}`;
    if (mode === 'merge') {
      // The target holds more than the snapshot: the restored documents are identical, the collections are not.
      const kept = result.restored.reduce((n, r) => n + (r.kept ?? 0), 0);
      result.summary =
        `verified: ${result.verified.documents} document${result.verified.documents === 1 ? '' : 's'} restored ` +
        `${opts.mask ? `from ${opts.ref} (sensitive fields masked; counts checked)` : `identical to ${opts.ref}`} ` +
        `in ${result.verified.collections} collection${result.verified.collections === 1 ? '' : 's'}, ${kept} other document${kept === 1 ? '' : 's'} kept`;
    }
    result.durationMs = Math.round(performance.now() - started);
    return result;
  } finally {
    await targetLock?.release().catch(() => {});
    await conn.close().catch(() => {});
  }
}
