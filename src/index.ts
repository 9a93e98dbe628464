/**
 * dbsnap's public library API.
 *
 * @example
 * import { init, commit, log } from 'dbsnap';
 * await init({ repo: 'backup-repo' });
 * await commit({ repo: 'backup-repo', uri: 'mongodb://localhost:27017/shop' });
 */
export * from './core/index.js';
// Building blocks beside the operations: commit trailers and the reference checks verify uses.
export { parseTrailers } from './core/commit-summary.js';
export { findDanglingReferences, valuesAtPath, referenceKey, type DocumentSource } from './core/references.js';
export { compareBsonValues } from './canonical/bson-order.js';
export { FORMAT_VERSION, type RepositoryConfig, type Manifest, type CollectionEntry } from './canonical/format.js';
export type { KeyMaterial } from './crypto/index.js';
export {
  diffCollection,
  diffSnapshots,
  renderJson,
  renderMarkdown,
  renderText,
  renderStat,
  plainPainter,
  describeValue,
  typeName,
  type Painter,
  type SnapshotDiff,
  type CollectionDelta,
  type DocumentChange,
  type FieldChange,
  type CollectionSide,
  type PartRef,
} from './diff/index.js';
