/**
 * The local-path transport (`/mnt/nas/data.git`, `file:///media/usb/data.git`): a bare
 * repository on another disk, created on the first push. isomorphic-git has no file transport,
 * and none is needed: the missing objects are copied through the object API (so packed
 * sources, such as a native `git clone --bare`, work too), objects first and refs last, each
 * ref a compare-and-swap under the remote's dbsnap lock and git's `<ref>.lock`, as a local
 * commit does.
 */
import { promises as fsp } from 'node:fs';
import { RemoteUnreachableError } from '../errors/index.js';
import { isErrno } from './files.js';
import { acquireLock } from './lock.js';
import { missingObjects } from './object-walk.js';
import { SnapshotRepository } from './repository.js';
import type { FetchedRef, RefUpdate, TransferStats, Transport, TransportProgress } from './transport.js';

export class FileTransport implements Transport {
  constructor(
    readonly dir: string,
    readonly display: string,
  ) {}

  /** The remote repository, or null when the directory is missing or empty (a push creates it). */
  private async openRemote(): Promise<SnapshotRepository | null> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      if (isErrno(err, 'ENOTDIR')) throw new RemoteUnreachableError(`${this.display} is a file, not a git repository.`, { url: this.display });
      throw new RemoteUnreachableError(`cannot read ${this.display}: ${(err as Error).message}`, { url: this.display });
    }
    if (entries.length === 0) return null;
    if (await SnapshotRepository.isRepository(this.dir)) return SnapshotRepository.open(this.dir);
    const hint = entries.includes('.git') ? ' It is a working copy; push to a bare repository (git init --bare, or a new directory dbsnap creates).' : ' Use an empty or new directory, or an existing bare repository.';
    throw new RemoteUnreachableError(`${this.display} is not a git repository.${hint}`, { url: this.display });
  }

  async listRefs(forPush: boolean): Promise<{ refs: Map<string, string>; head: string | null }> {
    const remote = await this.openRemote();
    if (remote === null) {
      if (forPush) return { refs: new Map(), head: null };
      throw new RemoteUnreachableError(`${this.display} does not exist or is empty; nothing to fetch.`, { url: this.display });
    }
    const refs = new Map((await remote.listRefs('refs/')).map((r) => [r.ref, r.oid] as const));
    const head = (await remote.head()).ref;
    return { refs, head: head.startsWith('refs/heads/') ? head : null };
  }

  async push(local: SnapshotRepository, updates: RefUpdate[], opts: { headBranch: string; onProgress?: (p: TransportProgress) => void }): Promise<TransferStats> {
    let remote = await this.openRemote();
    if (remote === null) {
      try {
        remote = (await SnapshotRepository.init(this.dir)).repo;
      } catch (err) {
        throw new RemoteUnreachableError(`cannot create a repository at ${this.display}: ${(err as Error).message}`, { url: this.display });
      }
      if (opts.headBranch !== 'refs/heads/main') await remote.setHeadBranch(opts.headBranch);
    }
    const lock = await acquireLock(remote.dir, 'push');
    try {
      const stats = await copyObjects(local, remote, updates.map((u) => u.new), 'send', opts.onProgress);
      for (const u of updates) await remote.updateRef(u.ref, u.new, u.old);
      return stats;
    } finally {
      await lock.release();
    }
  }

  async fetch(local: SnapshotRepository, remoteName: string, opts: { onProgress?: (p: TransportProgress) => void }): Promise<TransferStats & { refs: FetchedRef[]; head: string | null }> {
    const remote = await this.openRemote();
    if (remote === null) throw new RemoteUnreachableError(`${this.display} does not exist or is empty; nothing to fetch.`, { url: this.display });
    const { refs, head } = await this.listRefs(false);
    const wanted: RefUpdate[] = [];
    for (const [ref, oid] of refs) {
      if (ref.startsWith('refs/heads/')) {
        const localRef = `refs/remotes/${remoteName}/${ref.slice('refs/heads/'.length)}`;
        const old = (await local.listRefs(localRef)).find((r) => r.ref === localRef)?.oid ?? null;
        if (old !== oid) wanted.push({ ref: localRef, old, new: oid });
      } else if (ref.startsWith('refs/tags/')) {
        // As git fetch: a tag the local repository already has is never moved.
        if (!(await local.listRefs(ref)).some((r) => r.ref === ref)) wanted.push({ ref, old: null, new: oid });
      }
    }
    const stats = await copyObjects(remote, local, wanted.map((u) => u.new), 'receive', opts.onProgress);
    for (const u of wanted) await local.updateRef(u.ref, u.new, u.old);
    return { ...stats, refs: wanted, head };
  }
}

/** Copies the objects reachable from `tips` that `to` lacks, dependencies first. */
async function copyObjects(from: SnapshotRepository, to: SnapshotRepository, tips: string[], phase: 'send' | 'receive', onProgress?: (p: TransportProgress) => void): Promise<TransferStats> {
  onProgress?.({ phase: 'count', done: 0 });
  const objects = await missingObjects(from, tips, (oid) => to.hasObject(oid));
  let bytes = 0;
  let done = 0;
  for (const { oid } of objects) {
    const { type, content } = await from.readObject(oid);
    const written = await to.writeObject(type, content);
    if (written.oid !== oid) {
      throw new RemoteUnreachableError(`object ${oid} in ${from.dir} is damaged (its content hashes to ${written.oid}); nothing was updated. Run dbsnap verify there.`, { oid });
    }
    bytes += content.length;
    onProgress?.({ phase, done: ++done, total: objects.length });
  }
  return { objects: objects.length, bytes };
}
