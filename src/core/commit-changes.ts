/**
 * What a new commit changed against its parent (collections A/M/D with document counts), for
 * `commit({ changes: true })`: the diff engine over the two trees, collection by collection, reading only the collections
 * whose trees differ and in them the parts whose blobs differ.
 */
import { isEncryptedValue } from '../crypto/index.js';
import { diffEachCollection, type SnapshotDiff } from '../diff/index.js';
import type { SnapshotRepository } from '../store/index.js';
import { snapshotPairSides } from './sides.js';
import { openSnapshot } from './snapshot.js';

/**
 * The changes from `parent` (null: a root commit, everything is new) to `commit`, counts only
 * (no document bodies kept), labelled with the two commit ids.
 */
export async function commitChanges(repo: SnapshotRepository, parent: string | null, commit: string): Promise<SnapshotDiff> {
  const [before, after] = await Promise.all([parent ? openSnapshot(repo, parent, { parts: false }) : null, openSnapshot(repo, commit, { parts: false })]);
  const { names, sidesOf } = await snapshotPairSides(before, after, undefined, { counts: true });
  return diffEachCollection(names, sidesOf, { limit: 0, encryptedMarker: isEncryptedValue, fromLabel: parent ?? '(none)', toLabel: commit });
}
