/** The `push` operation: sends snapshots to a remote through the store's transports, refs last. */
import { InvalidArgumentError, isDbsnapError, PushRejectedError, RefNotFoundError, RemoteNotFoundError } from '../errors/index.js';
import { openTransport, redactUrl, SnapshotRepository, type RemoteConfig, type RefUpdate } from '../store/index.js';
import type { ProgressCallback } from './progress.js';
import { noSuchRemote } from './remote-config.js';

export interface PushOptions {
  repo: string;
  /** Remotes to push to. Default: every remote when `all` is set or exactly one is configured. */
  remotes?: string[];
  /** Push to every configured remote. */
  all?: boolean;
  /** Push tags too (default true). */
  tags?: boolean;
  /** Push the safety refs restore keeps (`refs/dbsnap/safety/...`) too (default false). */
  safety?: boolean;
  /** Overwrite remote refs that are not ancestors of the local ones (default false: refused). */
  force?: boolean;
  /** Token for HTTPS remotes (the CLI passes DBSNAP_GIT_TOKEN / GIT_TOKEN); never stored. */
  token?: string;
  /** Ask the git credential helper when an HTTPS server wants credentials and there is no token (default true). */
  credentialHelper?: boolean;
  onProgress?: ProgressCallback;
}

/** What happened to one ref on one remote. */
export interface PushedRef {
  ref: string;
  /** What the remote had, null if it had no such ref. */
  old: string | null;
  new: string;
  kind: 'new' | 'fast-forward' | 'forced';
}

export interface RemotePushResult {
  remote: string;
  /** The remote's URL without credentials. */
  url: string;
  status: 'up-to-date' | 'pushed' | 'failed';
  refs: PushedRef[];
  /** Objects the remote lacked and was sent (undefined for SSH, where native git counts). */
  objects?: number;
  /** Bytes sent: the pack over HTTP, object bytes to a local path. */
  bytes?: number;
  error?: { code: string; message: string };
}

export interface PushResult {
  /** True if every remote is now up to date. */
  ok: boolean;
  remotes: RemotePushResult[];
}

/**
 * Pushes the current branch (and tags, and with `safety` the safety refs) to one or more
 * remotes. Each remote is pushed on its own: a failure on one (unreachable, refused token, not
 * a fast-forward) is reported in its result and the others are still pushed. Only objects the
 * remote lacks are sent; refs move only after every object arrived, each as a compare-and-swap.
 * The local repository is never changed.
 *
 * @throws RemoteNotFoundError (ENOREMOTE) for an unknown remote name or when none is configured.
 * @throws InvalidArgumentError when several remotes exist and neither names nor `all` were given.
 * @example
 * const r = await push({ repo: 'backup-repo', all: true, token: process.env.DBSNAP_GIT_TOKEN });
 * for (const x of r.remotes) console.log(x.remote, x.status, x.objects);
 */
export async function push(opts: PushOptions): Promise<PushResult> {
  const repo = await SnapshotRepository.open(opts.repo);
  const targets = selectRemotes(await repo.config.remotes(), opts.remotes ?? [], opts.all ?? false);
  const head = await repo.head();
  if (head.oid === null) throw new RefNotFoundError(`${head.ref} has no commits yet; nothing to push.`, { ref: head.ref });
  if (!head.ref.startsWith('refs/heads/')) throw new InvalidArgumentError('HEAD is detached; push needs a branch.', { ref: head.ref });
  const local = new Map<string, string>([[head.ref, head.oid]]);
  if (opts.tags !== false) for (const t of await repo.listRefs('refs/tags/')) local.set(t.ref, t.oid);
  if (opts.safety) for (const s of await repo.listRefs('refs/dbsnap/safety/')) local.set(s.ref, s.oid);

  const results: RemotePushResult[] = [];
  for (const target of targets) {
    const url = redactUrl(target.url);
    try {
      const transport = openTransport(target.url, { token: opts.token, credentialHelper: opts.credentialHelper }, repo.dir);
      const { refs: remoteRefs } = await transport.listRefs(true);
      const refs = await plan(repo, local, remoteRefs, target.name, opts.force ?? false);
      if (refs.length === 0) {
        results.push({ remote: target.name, url, status: 'up-to-date', refs: [], objects: 0, bytes: 0 });
        continue;
      }
      const updates: RefUpdate[] = refs.map((r) => ({ ref: r.ref, old: r.old, new: r.new }));
      const stats = await transport.push(repo, updates, {
        headBranch: head.ref,
        onProgress: (p) => opts.onProgress?.({ phase: p.phase, remote: target.name, done: p.done, total: p.total }),
      });
      results.push({ remote: target.name, url, status: 'pushed', refs, ...stats });
    } catch (err) {
      if (!isDbsnapError(err)) throw err;
      results.push({ remote: target.name, url, status: 'failed', refs: [], error: { code: err.code, message: err.message } });
    }
  }
  return { ok: results.every((r) => r.status !== 'failed'), remotes: results };
}

/** The remotes a push or fetch goes to, from names / --all / "the only one". */
export function selectRemotes(configured: RemoteConfig[], names: string[], all: boolean): RemoteConfig[] {
  if (configured.length === 0) {
    throw new RemoteNotFoundError('this repository has no remotes; add one with dbsnap remote add NAME URL (an https:// URL, a path on another disk, or user@host:path).', {});
  }
  if (names.length > 0) {
    return [...new Set(names)].map((n) => {
      const r = configured.find((c) => c.name === n);
      if (!r) throw noSuchRemote(n, configured);
      return r;
    });
  }
  if (all || configured.length === 1) return configured;
  throw new InvalidArgumentError(`this repository has ${configured.length} remotes (${configured.map((r) => r.name).join(', ')}): name the ones to use, or pass --all.`, {
    remotes: configured.map((r) => r.name),
  });
}

/**
 * The ref updates a push makes, refusing (unless `force`) a branch that is not a fast-forward
 * and a tag or safety ref that exists on the remote with another value.
 */
async function plan(repo: SnapshotRepository, local: Map<string, string>, remote: Map<string, string>, remoteName: string, force: boolean): Promise<PushedRef[]> {
  const out: PushedRef[] = [];
  for (const [ref, oid] of local) {
    const old = remote.get(ref) ?? null;
    if (old === oid) continue;
    if (old === null) {
      out.push({ ref, old, new: oid, kind: 'new' });
      continue;
    }
    const isBranch = ref.startsWith('refs/heads/');
    if (isBranch && (await repo.isAncestor(old, oid))) {
      out.push({ ref, old, new: oid, kind: 'fast-forward' });
      continue;
    }
    if (force) {
      out.push({ ref, old, new: oid, kind: 'forced' });
      continue;
    }
    const short = ref.replace(/^refs\/(heads|tags)\//, '');
    throw new PushRejectedError(
      isBranch
        ? `${short} on ${remoteName} has commits this repository does not have (${old.slice(0, 7)} is not an ancestor of ${oid.slice(0, 7)}): not a fast-forward, nothing was pushed there. Run dbsnap pull ${remoteName} first, or push --force to overwrite them.`
        : `${ref} on ${remoteName} already points at ${old.slice(0, 7)}, not ${oid.slice(0, 7)}; nothing was pushed there. Push --force to move it.`,
      { remote: remoteName, ref, remoteOid: old, localOid: oid },
    );
  }
  return out;
}
