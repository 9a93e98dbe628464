/**
 * The snapshot repository store. This module is the only one that touches git (and the only
 * importer of isomorphic-git).
 */
export { SnapshotRepository, branchRef, DEFAULT_BRANCH, type CommitInfo, type TreeEntryInput, type TagInfo } from './repository.js';
export { acquireLock, releaseHeldLocksSync, LOCK_FILE_NAME, type LockInfo, type RepositoryLock } from './lock.js';
export { ensureDir, writeFileAtomic } from './files.js';
export { EMPTY_TREE_OID, TreeIndex, type GitIdentity, type TreeEntry } from './objects.js';
export { assertValidTagName, checkRefFormat } from './refs.js';
export { tagPathConflict, tagPathConflictError } from './tags.js';
export type { StoreStats } from './object-database.js';
export type { LocalChange } from './work-tree.js';
export { openTransport } from './open-transport.js';
export { remoteKind, localRemotePath, redactUrl, urlHasPassword, type Transport, type RefUpdate, type FetchedRef, type TransferStats, type TransportProgress, type Credentials, type RemoteKind } from './transport.js';
export { assertValidRemoteName, type RemoteConfig } from './git-config.js';
export type { RepackProgress, RepackResult } from './repack.js';
