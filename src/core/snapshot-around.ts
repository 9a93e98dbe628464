/**
 * `dbsnap run`: a snapshot before and after a risky command (a migration, a bulk fix), both
 * tagged, so the state before it is one `dbsnap restore` away.
 */
import type { KeyMaterial } from '../crypto/index.js';
import { spawn } from 'node:child_process';
import type { SnapshotDiff } from '../diff/index.js';
import { InterruptedError, InvalidArgumentError, TagExistsError } from '../errors/index.js';
import { connect } from '../mongo/connection.js';
import { redactUri } from '../mongo/uri.js';
import { dropCollection } from '../mongo/writer.js';
import { assertValidTagName, SnapshotRepository, tagPathConflict, tagPathConflictError } from '../store/index.js';
import { commit, type CommitResult } from './commit.js';
import { forwardedCommitOptions } from './forwarded-options.js';
import { diff } from './diff.js';
import type { Identity, ProgressCallback } from './progress.js';
import { restore, type RestoreResult } from './restore.js';
import { tag } from './tag.js';

/** How the wrapped command ended. */
export interface CommandOutcome {
  /** The exit code; 128+N when a signal N ended it, 127 when it could not be started. */
  exitCode: number;
  /** The signal that ended it, if one did. */
  signal?: string;
  /** Why it could not be started (e.g. `ENOENT`), if it could not. */
  spawnError?: string;
}

/** Runs the command; the default spawns it with the caller's stdin, stdout and stderr. */
export type CommandRunner = (command: string[], signal?: AbortSignal) => Promise<CommandOutcome>;

export interface SnapshotAroundOptions {
  repo: string;
  uri: string;
  db?: string;
  /** What the command does (`migration 042`); the two commit messages say before/after it. */
  message?: string;
  /** The command and its arguments (no shell). */
  command: string[];
  /** Tag the snapshots `NAME/before` and `NAME/after` (default `run/<UTC timestamp>/...`). */
  tag?: string;
  /** When the command fails, restore the before-snapshot (after a safety snapshot). */
  restoreOnFailure?: boolean;
  key?: KeyMaterial;
  useServerHashes?: boolean;
  useChangeStreams?: boolean;
  author?: Identity;
  now?: () => Date;
  execute?: CommandRunner;
  /** Told each step as it finishes, so a caller can report before the command's own output. */
  onStep?: (step: SnapshotAroundStep) => void;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export type SnapshotAroundStep =
  | { step: 'before'; snapshot: RunSnapshot }
  | { step: 'command'; outcome: CommandOutcome }
  | { step: 'after'; snapshot: RunSnapshot }
  | { step: 'restore'; result: RestoreResult };

export interface RunSnapshot {
  commit: string;
  /** False when nothing had changed since HEAD: the tag names HEAD. */
  committed: boolean;
  tag: string;
  documents: number;
}

export interface SnapshotAroundResult {
  command: string[];
  before: RunSnapshot;
  outcome: CommandOutcome;
  after: RunSnapshot;
  /** What the command changed, before -> after. */
  changes: SnapshotDiff;
  /** The exact command that puts the before-snapshot back (printed when the command failed). */
  restoreCommand: string;
  /** Collections the command created (in the after-snapshot, not in the before-snapshot). */
  created: string[];
  /** Present when the command failed and `restoreOnFailure` restored the before-snapshot. */
  restored?: RestoreResult;
  /**
   * With `restoreOnFailure`: the collections the command created, dropped so the database is as
   * it was; their contents stay in the after-snapshot.
   */
  dropped?: string[];
}

/**
 * Commits the database (no commit if nothing changed since HEAD), tags it `.../before`, runs the
 * command, commits and tags `.../after` (also when the command failed: the failed state is worth
 * keeping), and returns what changed. The command is never started without a before-snapshot.
 *
 * @example
 * const r = await snapshotAround({ repo: 'backup-repo', uri, message: 'migration 042', command: ['npx', 'migrate-mongo', 'up'] });
 * if (r.outcome.exitCode !== 0) console.error(`undo with: ${r.restoreCommand}`);
 */
export async function snapshotAround(opts: SnapshotAroundOptions): Promise<SnapshotAroundResult> {
  if (opts.command.length === 0 || !opts.command[0]) {
    throw new InvalidArgumentError('dbsnap run needs a command after --, e.g. dbsnap run -m "migration 042" -- npx migrate-mongo up.');
  }
  const now = opts.now ?? (() => new Date());
  const what = opts.message?.trim() || opts.command.join(' ');
  const common = { ...forwardedCommitOptions(opts), onProgress: opts.onProgress, signal: opts.signal };
  if (opts.tag) await checkTagPrefix(opts.repo, opts.tag);
  const prefix = opts.tag ?? (await freeTagPrefix(opts.repo, `run/${stamp(now())}`));

  const beforeCommit = await commit({ ...common, message: `Before: ${what}`, now: now() });
  const before = await tagSnapshot(opts, beforeCommit, `${prefix}/before`, now());
  opts.onStep?.({ step: 'before', snapshot: before });
  if (opts.signal?.aborted) throw new InterruptedError(`interrupted before the command ran; snapshot ${before.tag} was taken.`);

  const outcome = await (opts.execute ?? spawnCommand)(opts.command, opts.signal);
  opts.onStep?.({ step: 'command', outcome });
  // Exact when the URI holds no credentials; otherwise they show as <credentials> to fill in.
  const restoreCommand = `dbsnap restore ${before.tag} --repo ${shellQuote(opts.repo)} --uri ${shellQuote(redactUri(opts.uri))} --db ${beforeCommit.database} --yes`;
  if (opts.signal?.aborted) {
    throw new InterruptedError(
      `interrupted: the command ended (exit ${outcome.exitCode}) and no after-snapshot was taken; the state before it is ${before.tag} (${restoreCommand}).`,
      { before: before.commit, exitCode: outcome.exitCode },
    );
  }

  const afterCommit = await commit({ ...common, message: `After: ${what}${outcome.exitCode === 0 ? '' : ` (failed, exit ${outcome.exitCode})`}`, now: now() });
  const after = await tagSnapshot(opts, afterCommit, `${prefix}/after`, now());
  opts.onStep?.({ step: 'after', snapshot: after });
  const changes = await diff({ repo: opts.repo, from: before.commit, to: after.commit, limit: 0 });

  const created = changes.collections.filter((c) => c.status === 'added').map((c) => c.name);
  const result: SnapshotAroundResult = { command: opts.command, before, outcome, after, changes, restoreCommand, created };
  if (outcome.exitCode !== 0 && opts.restoreOnFailure) {
    result.restored = await restore({
      repo: opts.repo,
      ref: before.commit,
      uri: opts.uri,
      db: beforeCommit.database,
      key: opts.key,
      backup: true,
      author: opts.author,
      now: now(),
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
    // restore leaves collections outside the snapshot alone; the after-snapshot holds them.
    result.dropped = created.length ? await dropCollections(opts.uri, beforeCommit.database, created) : [];
    opts.onStep?.({ step: 'restore', result: result.restored });
  }
  return result;
}

async function dropCollections(uri: string, db: string, names: string[]): Promise<string[]> {
  const conn = await connect({ uri, db });
  try {
    const dropped: string[] = [];
    for (const name of names) if (await dropCollection(conn, name)) dropped.push(name);
    return dropped;
  } finally {
    await conn.close().catch(() => {});
  }
}

async function tagSnapshot(opts: SnapshotAroundOptions, c: CommitResult, name: string, when: Date): Promise<RunSnapshot> {
  await tag({ repo: opts.repo, name, ref: c.commit!, author: opts.author, now: when });
  return { commit: c.commit!, committed: c.committed, tag: name, documents: c.documents };
}

/** `run/<stamp>`, or `run/<stamp>-2` ... when two runs start in the same second. */
async function freeTagPrefix(repoDir: string, base: string): Promise<string> {
  const repo = await SnapshotRepository.open(repoDir);
  const taken = new Set((await repo.listTags()).map((t) => t.name.split('/').slice(0, 2).join('/')));
  let prefix = base;
  for (let n = 2; taken.has(prefix); n++) prefix = `${base}-${n}`;
  return prefix;
}

/** A --tag NAME whose tags exist already is refused before anything is committed. */
async function checkTagPrefix(repoDir: string, prefix: string): Promise<void> {
  const repo = await SnapshotRepository.open(repoDir);
  const tags = new Set((await repo.listTags()).map((t) => t.name));
  for (const name of [`${prefix}/before`, `${prefix}/after`]) {
    assertValidTagName(name);
    if (tags.has(name)) {
      throw new TagExistsError(`tag "${name}" already exists; choose another --tag or delete it with dbsnap tag -d ${name}.`, { tag: name });
    }
    const clash = await tagPathConflict(repo, name);
    if (clash !== null) throw tagPathConflictError(name, clash);
  }
}

/** `20261201T160102Z`: sortable, and valid in a ref name. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/**
 * Spawns without a shell, with inherited stdio. A terminal's Ctrl-C reaches the command itself
 * (same process group); a signal sent to dbsnap alone is passed on as SIGTERM.
 */
export const spawnCommand: CommandRunner = (command, signal) =>
  new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
    const forward = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', forward, { once: true });
    child.on('error', (err: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', forward);
      resolve({ exitCode: 127, spawnError: `${err.code ?? err.message}` });
    });
    child.on('exit', (code, sig) => {
      signal?.removeEventListener('abort', forward);
      resolve(sig ? { exitCode: 128 + (SIGNALS[sig] ?? 0), signal: sig } : { exitCode: code ?? 0 });
    });
  });
