/**
 * The smart-HTTP transport (GitHub, GitLab, Gitea, Bitbucket, `git http-backend`), over
 * isomorphic-git's Node http client.
 *
 * Push speaks receive-pack itself rather than through isomorphic-git's `push`, which sends one
 * ref per request and does not say what it sent: here one request carries the branch and every
 * tag (atomically where the server offers it), and the objects are exactly those the remote
 * lacks, counted. Fetch is isomorphic-git's (it resolves deltas in what the server sends).
 *
 * Credentials: a token (DBSNAP_GIT_TOKEN / GIT_TOKEN, passed in by the caller) or the user's
 * git credential helper, sent only after the server asks (401), never logged, never written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadGit, loadHttpClient } from './isomorphic-git.js';
import { AuthenticationError, PushRejectedError, RemoteUnreachableError } from '../errors/index.js';
import { writeFileAtomic } from './files.js';
import { credentialFill } from './native-git.js';
import { knownToRemote, missingObjects } from './object-walk.js';
import { writePack } from './pack-writer.js';
import { FLUSH, parsePktLines, pktLine } from './pkt-line.js';
import type { SnapshotRepository } from './repository.js';
import type { Credentials, FetchedRef, RefUpdate, TransferStats, Transport, TransportProgress } from './transport.js';

const ZERO_OID = '0'.repeat(40);
const AGENT = 'git/dbsnap';

interface Auth {
  username: string;
  password: string;
  source: 'token' | 'helper' | 'url';
}

export class HttpTransport implements Transport {
  private readonly base: string;
  private auth: Auth | undefined;
  private authTried = false;

  constructor(
    url: string,
    readonly display: string,
    private readonly credentials: Credentials,
    private readonly gitdir: string,
  ) {
    const u = new URL(url);
    // Credentials in the URL itself (a clone URL typed by hand) count as configured ones.
    if (u.password) this.auth = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password), source: 'url' };
    u.username = '';
    u.password = '';
    this.base = u.toString().replace(/\/+$/, '');
  }

  /** Credentials to answer a 401 with: the token, else the credential helper's, else none. */
  private async nextAuth(): Promise<Auth | undefined> {
    if (this.authTried) return undefined;
    this.authTried = true;
    const user = decodeURIComponent(new URL(`${this.base}/`).username || '') || 'x-access-token';
    if (this.credentials.token) return { username: user, password: this.credentials.token, source: 'token' };
    if (this.credentials.credentialHelper !== false) {
      const c = await credentialFill(this.base, this.gitdir);
      if (c) return { username: c.username || user, password: c.password, source: 'helper' };
    }
    return undefined;
  }

  private authFailure(): AuthenticationError {
    if (this.auth === undefined) {
      return new AuthenticationError(`${this.display} asks for credentials and none are configured: set DBSNAP_GIT_TOKEN (or GIT_TOKEN) to an access token with write access, or configure a git credential helper.`, { url: this.display });
    }
    const from = this.auth.source === 'token' ? 'the token from DBSNAP_GIT_TOKEN/GIT_TOKEN' : this.auth.source === 'helper' ? 'the credentials from your git credential helper' : 'the credentials in the URL';
    return new AuthenticationError(`${this.display} refused ${from} (HTTP 401/403); check that it is valid and has access to this repository.`, { url: this.display });
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { 'user-agent': AGENT, ...extra };
    if (this.auth) h.authorization = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    return h;
  }

  /** One request, answering a 401 once with credentials; the body is returned whole. */
  private async request(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: () => AsyncIterable<Uint8Array>): Promise<{ status: number; type: string; body: Buffer }> {
    const httpClient = await loadHttpClient();
    for (;;) {
      let res;
      try {
        res = await httpClient.request({ url, method, headers: this.headers(headers), ...(body ? { body: body() as AsyncIterableIterator<Uint8Array> } : {}) });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host not found' : code === 'ETIMEDOUT' ? 'timed out' : (err as Error).message;
        throw new RemoteUnreachableError(`cannot reach ${this.display}: ${why}.`, { url: this.display, cause: code });
      }
      const chunks: Buffer[] = [];
      if (res.body) for await (const c of res.body) chunks.push(Buffer.from(c));
      const status = res.statusCode;
      if (status === 401 || (status === 403 && this.auth === undefined)) {
        const next = await this.nextAuth();
        if (next) {
          // `body` makes a fresh stream per call, so a POST can be sent again too.
          this.auth = next;
          continue;
        }
        throw this.authFailure();
      }
      if (status === 403) throw this.authFailure();
      const type = String(res.headers?.['content-type'] ?? '');
      return { status, type, body: Buffer.concat(chunks) };
    }
  }

  private async discover(service: 'git-receive-pack' | 'git-upload-pack'): Promise<{ refs: Map<string, string>; caps: Set<string>; head: string | null }> {
    const res = await this.request('GET', `${this.base}/info/refs?service=${service}`, {});
    if (res.status === 404) throw new RemoteUnreachableError(`${this.display}: no git repository there (HTTP 404). Create it on the server first (an empty repository).`, { url: this.display, status: 404 });
    if (res.status >= 400) throw new RemoteUnreachableError(`${this.display}: the server answered HTTP ${res.status}.`, { url: this.display, status: res.status });
    if (!res.type.startsWith(`application/x-${service}-advertisement`)) {
      throw new RemoteUnreachableError(`${this.display} is not a git repository (the server did not answer as a smart git HTTP server).`, { url: this.display });
    }
    const refs = new Map<string, string>();
    let caps = new Set<string>();
    let head: string | null = null;
    for (const line of parsePktLines(res.body)) {
      if (line === null) continue;
      const text = line.toString('utf8').replace(/\n$/, '');
      if (text.startsWith('# service=')) continue;
      const nul = text.indexOf('\0');
      const refPart = nul >= 0 ? text.slice(0, nul) : text;
      if (nul >= 0) {
        caps = new Set(text.slice(nul + 1).split(' ').filter(Boolean));
        for (const c of caps) if (c.startsWith('symref=HEAD:')) head = c.slice('symref=HEAD:'.length);
      }
      const [oid, ref] = refPart.split(' ');
      if (oid && ref && ref.startsWith('refs/') && !ref.endsWith('^{}') && oid !== ZERO_OID) refs.set(ref, oid);
    }
    return { refs, caps, head };
  }

  async listRefs(forPush: boolean): Promise<{ refs: Map<string, string>; head: string | null }> {
    const { refs, head } = await this.discover(forPush ? 'git-receive-pack' : 'git-upload-pack');
    return { refs, head };
  }

  async push(local: SnapshotRepository, updates: RefUpdate[], opts: { onProgress?: (p: TransportProgress) => void }): Promise<TransferStats> {
    const { refs, caps } = await this.discover('git-receive-pack');
    for (const u of updates) {
      if ((refs.get(u.ref) ?? null) !== u.old) {
        throw new PushRejectedError(`${u.ref} on ${this.display} changed while pushing (expected ${u.old ?? 'no ref'}, found ${refs.get(u.ref) ?? 'no ref'}); push again.`, { ref: u.ref });
      }
    }
    opts.onProgress?.({ phase: 'count', done: 0 });
    const remoteHas = await knownToRemote(local, [...refs.values()]);
    const objects = await missingObjects(local, updates.map((u) => u.new), async (oid) => remoteHas(oid));
    const wanted = ['report-status', `agent=${AGENT}`, ...(caps.has('atomic') && updates.length > 1 ? ['atomic'] : [])];
    let bytes = 0;
    const onProgress = opts.onProgress;
    const body = async function* (): AsyncGenerator<Uint8Array> {
      bytes = 0;
      let first = true;
      for (const u of updates) {
        yield pktLine(`${u.old ?? ZERO_OID} ${u.new} ${u.ref}${first ? `\0${wanted.join(' ')}` : ''}\n`);
        first = false;
      }
      yield FLUSH;
      for await (const chunk of writePack(local, objects, (done) => onProgress?.({ phase: 'send', done, total: objects.length }))) {
        bytes += chunk.length;
        yield chunk;
      }
    };
    const res = await this.request('POST', `${this.base}/git-receive-pack`, {
      'content-type': 'application/x-git-receive-pack-request',
      accept: 'application/x-git-receive-pack-result',
    }, body);
    if (res.status >= 400) throw new RemoteUnreachableError(`${this.display}: the server answered HTTP ${res.status} to the push.`, { url: this.display, status: res.status });
    const report = parsePktLines(res.body).filter((l): l is Buffer => l !== null).map((l) => l.toString('utf8').replace(/\n$/, ''));
    const unpack = report.find((l) => l.startsWith('unpack '));
    if (unpack !== 'unpack ok') {
      throw new PushRejectedError(`${this.display} could not store the pushed objects (${unpack ?? 'no report from the server'}); nothing was updated there.`, { url: this.display });
    }
    const failed = report.filter((l) => l.startsWith('ng '));
    if (failed.length > 0) {
      const [, ref, ...why] = failed[0]!.split(' ');
      throw new PushRejectedError(`${this.display} refused ${ref}: ${why.join(' ')}.`, { url: this.display, ref, refused: failed });
    }
    return { objects: objects.length, bytes };
  }

  async fetch(local: SnapshotRepository, remoteName: string, opts: { onProgress?: (p: TransportProgress) => void }): Promise<TransferStats & { refs: FetchedRef[]; head: string | null }> {
    // Discover first: unreachable, 401 and "not a repository" get the same messages as push.
    const { refs: remoteRefs, head } = await this.discover('git-upload-pack');
    const before = new Map((await local.listRefs('refs/')).map((r) => [r.ref, r.oid] as const));
    const staged = stagedRefsFs(local.dir);
    if (remoteRefs.size > 0) {
      const git = await loadGit();
      const httpClient = await loadHttpClient();
      const auth = this.auth;
      let refused = false;
      try {
        await git.fetch({
          fs: staged.fs as never,
          http: httpClient,
          gitdir: local.dir,
          url: this.base,
          remote: remoteName,
          ref: head !== null && remoteRefs.has(head) ? 'HEAD' : [...remoteRefs.keys()].find((r) => r.startsWith('refs/heads/')) ?? 'HEAD',
          singleBranch: false,
          tags: true,
          headers: { 'user-agent': AGENT },
          onAuth: () => (auth ? { username: auth.username, password: auth.password } : { cancel: true }),
          onAuthFailure: () => {
            refused = true;
            return { cancel: true };
          },
          onProgress: (p) => opts.onProgress?.({ phase: 'receive', done: p.loaded, total: p.total }),
        });
      } catch (err) {
        if (refused || err instanceof git.Errors.UserCanceledError) throw this.authFailure();
        if (err instanceof git.Errors.HttpError) throw new RemoteUnreachableError(`${this.display}: ${(err as Error).message}`, { url: this.display });
        // A remote whose HEAD names no branch: isomorphic-git fails after the pack is stored.
        if (!(err instanceof git.Errors.NotFoundError && (err.data as { what?: string }).what === 'HEAD' && staged.refs.size > 0)) throw err;
      }
    }
    // The pack is complete on disk; only now do refs move (isomorphic-git's own ref writes
    // were held back), each a compare-and-swap against what was there before the fetch.
    const refs: FetchedRef[] = [];
    for (const [ref, value] of staged.refs) {
      if (!/^[0-9a-f]{40}$/.test(value) || !ref.startsWith('refs/') || ref === `refs/remotes/${remoteName}/HEAD`) continue;
      const old = before.get(ref) ?? null;
      if (old === value) continue;
      if (ref.startsWith('refs/tags/') && old !== null) continue;
      await local.updateRef(ref, value, old);
      refs.push({ ref, old, new: value });
    }
    refs.sort((a, b) => (a.ref < b.ref ? -1 : 1));
    return { refs, head };
  }
}

/**
 * A Node fs for isomorphic-git in which writes to refs (and `packed-refs`, `shallow`) are held
 * in memory instead of written: its fetch writes refs before the pack is on disk, and a crash
 * in between would leave refs naming missing objects. Object files are written through a temp
 * file and a rename, so a pack index never appears half-written.
 */
function stagedRefsFs(gitdir: string): { fs: Record<string, unknown>; refs: Map<string, string> } {
  const root = path.resolve(gitdir);
  const refs = new Map<string, string>();
  const held = (p: string): string | null => {
    const rel = path.relative(root, path.resolve(String(p))).split(path.sep).join('/');
    return rel.startsWith('refs/') || rel === 'packed-refs' || rel === 'shallow' ? rel : null;
  };
  const fsp = fs.promises;
  const promises = {
    readFile: async (p: string, o?: unknown) => {
      const rel = held(p);
      if (rel !== null && refs.has(rel)) {
        const v = refs.get(rel)!;
        return typeof o === 'string' || (o as { encoding?: string })?.encoding ? `${v}\n` : Buffer.from(`${v}\n`);
      }
      return fsp.readFile(p, o as never);
    },
    writeFile: async (p: string, data: string | Uint8Array, o?: unknown) => {
      const rel = held(p);
      if (rel !== null) {
        refs.set(rel, Buffer.from(typeof data === 'string' ? data : data).toString('utf8').trim());
        return;
      }
      await writeFileAtomic(p, typeof data === 'string' ? data : Buffer.from(data), 'tmp_pack_');
      void o;
    },
    unlink: async (p: string) => {
      if (held(p) !== null) return;
      return fsp.unlink(p);
    },
    mkdir: fsp.mkdir.bind(fsp),
    rmdir: fsp.rmdir.bind(fsp),
    rm: fsp.rm.bind(fsp),
    stat: fsp.stat.bind(fsp),
    lstat: fsp.lstat.bind(fsp),
    readdir: fsp.readdir.bind(fsp),
    readlink: fsp.readlink.bind(fsp),
    symlink: fsp.symlink.bind(fsp),
  };
  return { fs: { promises }, refs };
}
