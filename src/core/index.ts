/**
 * The core operations, one per file (the other files of src/core are their internals), with the
 * types of their options and results; the CLI calls these. Helpers (durations, cron checks, the
 * watch housekeeping ...) are imported from their own modules by their users, not from here.
 * Building blocks that library users may also want are exported by src/index.ts.
 */
export * from '../errors/index.js';
export { init, type InitOptions, type InitResult } from './init.js';
export { commit, type CommitOptions, type CommitResult, type CommittedCollection } from './commit.js';
export type { ChangeDetection, DetectionMethod } from './unchanged-collections.js';
export { log, type LogOptions, type LogEntry } from './log.js';
export { show, type ShowOptions, type ShowResult } from './show.js';
export type { Progress, ProgressCallback, Identity } from './progress.js';
export type { CommitSummary } from './commit-summary.js';
export { DBSNAP_VERSION } from './version.js';
export { diff, type DiffOptions } from './diff.js';
export { status, type StatusOptions, type StatusResult } from './status.js';
export { tag, type TagOptions } from './tag.js';
export { listTags } from './list-tags.js';
export { deleteTag } from './delete-tag.js';
export { cleanupRestore, type CleanupOptions, type CleanupResult } from './restore-cleanup.js';
export { restore, type RestoreOptions, type RestoreResult, type RestorePlan, type RestoredCollection, type DanglingRelation } from './restore.js';
export { verify, type VerifyOptions, type VerifyReport, type VerifyCollection, type VerifyRelation, type Problem, type ProblemKind } from './verify.js';
export { relations, type RelationsOptions, type RelationsResult, type RelationProposal } from './relations.js';
export { updateConfig, type UpdateConfigOptions, type UpdateConfigResult } from './config.js';
export type { DanglingReport } from './references.js';
export { configValue, type ConfigValueOptions, type ConfigValueResult } from './config-value.js';
export { rekey, type RekeyOptions, type RekeyResult } from './rekey.js';
export { snapshotAround, type SnapshotAroundOptions, type SnapshotAroundResult, type SnapshotAroundStep, type RunSnapshot, type CommandOutcome, type CommandRunner } from './snapshot-around.js';
export { listBranches, type BranchInfo } from './list-branches.js';
export { createBranch } from './create-branch.js';
export { deleteBranch } from './delete-branch.js';
export { switchBranch } from './switch-branch.js';
export type { RemoteInfo } from './remote-config.js';
export { addRemote, type AddRemoteOptions } from './add-remote.js';
export { removeRemote } from './remove-remote.js';
export { listRemotes } from './list-remotes.js';
export { push, type PushOptions, type PushResult, type RemotePushResult, type PushedRef } from './push.js';
export { fetchRemote, type FetchOptions, type FetchResult } from './fetch.js';
export { pull, type PullOptions, type PullResult } from './pull.js';
export { clone, type CloneOptions, type CloneResult } from './clone.js';
export { gc, type GcOptions, type GcResult } from './gc.js';
export { importBackup, type ImportOptions, type ImportResult, type ImportedSnapshot, type ImportedCollection } from './import.js';
export { exportSnapshot, type ExportOptions, type ExportResult, type ExportedCollection, type ExportFormat } from './export.js';
export { documentHistory, type DocumentHistoryOptions, type DocumentHistory, type DocumentVersion } from './document-history.js';
export { blame, type BlameOptions, type BlameResult, type BlameLine } from './blame.js';
export { watch, type WatchOptions, type WatchTick, type WatchResult, type WatchClock, type Housekeeping, type ChangeSource } from './watch.js';
export type { Schedule, Backoff } from './schedule.js';
export { drill, type DrillOptions, type DrillResult, type DrillRecord } from './drill.js';
export { drillHistory } from './drill-history.js';
export { prune, type PruneOptions, type PruneResult } from './prune.js';
