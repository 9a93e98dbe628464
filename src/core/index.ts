/** The core operations, one per file; the CLI and library users call these. */
export * from '../errors/index.js';
export { init, type InitOptions, type InitResult } from './init.js';
export { commit, parseTrailers, type CommitOptions, type CommitResult, type CommittedCollection } from './commit.js';
export { log, type LogOptions, type LogEntry } from './log.js';
export { show, type ShowOptions, type ShowResult } from './show.js';
export type { Progress, ProgressCallback, Identity } from './progress.js';
export { DBSNAP_VERSION } from './version.js';
export { diff, type DiffOptions } from './diff.js';
export { status, type StatusOptions, type StatusResult } from './status.js';
export { tag, listTags, deleteTag, type TagOptions } from './tag.js';
export { restore, type RestoreOptions, type RestoreResult, type RestorePlan, type RestoredCollection, type DanglingRelation } from './restore.js';
export { verify, type VerifyOptions, type VerifyReport, type VerifyCollection, type VerifyRelation, type Problem, type ProblemKind } from './verify.js';
export { relations, type RelationsOptions, type RelationsResult, type RelationProposal } from './relations.js';
export { updateConfig, type UpdateConfigOptions, type UpdateConfigResult } from './config.js';
export { findDanglingReferences, valuesAtPath, referenceKey, type DanglingReport, type DocumentSource } from './references.js';
export { configValue, type ConfigValueOptions, type ConfigValueResult } from './config-value.js';
export { rekey, type RekeyOptions, type RekeyResult } from './rekey.js';
export { snapshotAround, spawnCommand, type SnapshotAroundOptions, type SnapshotAroundResult, type SnapshotAroundStep, type RunSnapshot, type CommandOutcome, type CommandRunner } from './snapshot-around.js';
