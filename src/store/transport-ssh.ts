/**
 * The SSH transport (`git@github.com:org/data.git`, `ssh://host/path`): native `git push` and
 * `git fetch` with the snapshot repository as their git dir, so ssh keys, agents and
 * `~/.ssh/config` work as they do for git.
 */
import { GitNotFoundError, PushRejectedError, RemoteUnreachableError } from '../errors/index.js';
import { runGit } from './native-git.js';
import type { SnapshotRepository } from './repository.js';
import type { FetchedRef, RefUpdate, TransferStats, Transport } from './transport.js';

export class SshTransport implements Transport {
  constructor(
    readonly url: string,
    readonly display: string,
  ) {}

  private async git(args: string[]): Promise<string> {
    let r;
    try {
      r = await runGit(args);
    } catch (err) {
      if (err instanceof GitNotFoundError) {
        throw new GitNotFoundError(
          `${this.display} is an SSH remote, which needs the git binary, and git is not installed. Install git, or use an https:// URL (token in DBSNAP_GIT_TOKEN) or a local path instead.`,
          { url: this.display },
        );
      }
      throw err;
    }
    if (r.code !== 0) {
      const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('hint:'));
      const fatal = lines.find((l) => /^(fatal|error|ERROR):/.test(l)) ?? lines.at(-1) ?? `git exited with ${r.code}`;
      const msg = fatal.replace(/^(fatal|error|ERROR): /, '');
      if (/\[rejected\]|non-fast-forward|fetch first|already exists/.test(r.stderr)) {
        throw new PushRejectedError(`${this.display} refused the update: ${msg}`, { url: this.display });
      }
      throw new RemoteUnreachableError(`${this.display}: ${msg}`, { url: this.display });
    }
    return r.stdout;
  }

  async listRefs(): Promise<{ refs: Map<string, string>; head: string | null }> {
    const out = await this.git(['ls-remote', '--symref', this.url]);
    const refs = new Map<string, string>();
    let head: string | null = null;
    for (const line of out.split('\n')) {
      const sym = /^ref: (\S+)\tHEAD$/.exec(line);
      if (sym) head = sym[1]!;
      const m = /^([0-9a-f]{40})\t(refs\/\S+)$/.exec(line);
      if (m && !m[2]!.endsWith('^{}')) refs.set(m[2]!, m[1]!);
    }
    return { refs, head };
  }

  async push(local: SnapshotRepository, updates: RefUpdate[]): Promise<TransferStats> {
    // --force-with-lease per ref: the same compare-and-swap on `old` as the other transports.
    const args = ['--git-dir', local.dir, 'push', '--porcelain'];
    for (const u of updates) args.push(`--force-with-lease=${u.ref}:${u.old ?? ''}`);
    args.push(this.url, ...updates.map((u) => `+${u.new}:${u.ref}`));
    await this.git(args);
    return {};
  }

  async fetch(local: SnapshotRepository, remoteName: string): Promise<TransferStats & { refs: FetchedRef[]; head: string | null }> {
    const before = new Map((await local.listRefs('refs/')).map((r) => [r.ref, r.oid] as const));
    const { head } = await this.listRefs();
    await this.git(['--git-dir', local.dir, 'fetch', '--no-write-fetch-head', this.url, `+refs/heads/*:refs/remotes/${remoteName}/*`, 'refs/tags/*:refs/tags/*']);
    const refs: FetchedRef[] = [];
    for (const { ref, oid } of await local.listRefs('refs/')) {
      const old = before.get(ref) ?? null;
      if (old !== oid) refs.push({ ref, old, new: oid });
    }
    return { refs, head };
  }
}
