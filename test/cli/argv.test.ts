import { describe, expect, it } from 'vitest';
import * as realCore from '../../src/core/index.js';
import type { Core } from '../../src/cli/context.js';
import { cli } from './support.js';

/** A core whose functions record their options and return canned results. */
function recordingCore() {
  const calls: { fn: string; opts: Record<string, unknown> }[] = [];
  const record = (fn: string, result: unknown) => async (opts: Record<string, unknown>) => {
    calls.push({ fn, opts });
    return result;
  };
  const emptyDiff = { from: 'HEAD', to: 'x', collections: [], totals: { collections: { added: 0, removed: 0, changed: 0, unchanged: 0 }, documents: { added: 0, removed: 0, changed: 0 } } };
  const core = {
    ...realCore,
    init: record('init', { repo: 'r', created: true, commit: 'c', config: {} }),
    commit: record('commit', { committed: false, commit: 'abc1234', database: 'shop', documents: 0, collections: [], skipped: [], warnings: [] }),
    log: record('log', []),
    show: record('show', { commit: 'c', tags: [], trailers: {}, snapshot: false, collections: [] }),
    diff: record('diff', emptyDiff),
    status: record('status', { clean: true, against: 'HEAD', collections: [], diff: emptyDiff }),
    tag: record('tag', { name: 'v1', commit: 'abcdef0', annotated: false }),
    listTags: record('listTags', []),
    deleteTag: record('deleteTag', { name: 'v1', commit: 'abcdef0' }),
  } as unknown as Core;
  return { core, calls };
}

const URI = 'mongodb://localhost:27017/shop';

describe('argv -> core call', () => {
  it.each<[string[], string, Record<string, unknown>]>([
    [['init'], 'init', { repo: './backup-repo' }],
    [['init', '--repo', '/tmp/r', '--sort-keys'], 'init', { repo: '/tmp/r', config: { sortKeys: true } }],
    [['commit', '--uri', URI], 'commit', { repo: './backup-repo', uri: URI, allowEmpty: false, changes: true }],
    [['commit', '--server-hashes', '--no-change-streams', '--uri', URI], 'commit', { useServerHashes: true, useChangeStreams: false }],
    [['commit', '-m', 'hello', '--collections', 'a,b', '--exclude', 'x', '--uri', URI, '--db', 'other'], 'commit', { message: 'hello', collections: ['a', 'b'], exclude: ['x'], db: 'other' }],
    [['commit', '--allow-empty', '--no-server-hashes', '--uri', URI], 'commit', { allowEmpty: true, useServerHashes: false }],
    [['log', '-n', '3'], 'log', { n: 3 }],
    [['log', 'v1'], 'log', { ref: 'v1' }],
    [['show'], 'show', { ref: 'HEAD' }],
    [['show', 'HEAD~2'], 'show', { ref: 'HEAD~2' }],
    [['diff', '--uri', URI], 'diff', { from: undefined, to: undefined, uri: URI, limit: 100 }],
    [['diff', 'v1', 'v2', '--limit', '5', '--collections', 'users'], 'diff', { from: 'v1', to: 'v2', limit: 5, collections: ['users'] }],
    [['diff', 'main..feature', '--format', 'markdown'], 'diff', { from: 'main..feature' }],
    [['status', '--uri', URI], 'status', { uri: URI }],
    [['status', '--no-server-hashes', '--uri', URI], 'status', { uri: URI, useServerHashes: false }],
    [['diff', '--no-change-streams', '--uri', URI], 'diff', { useChangeStreams: false }],
    [['tag', 'v1'], 'tag', { name: 'v1', ref: undefined }],
    [['tag', 'v1', 'HEAD~1', '-m', 'msg'], 'tag', { name: 'v1', ref: 'HEAD~1', message: 'msg' }],
    [['tag', '--list'], 'listTags', {}],
    [['tag', '-d', 'v1'], 'deleteTag', { name: 'v1' }],
  ])('dbsnap %j calls %s', async (argv, fn, expected) => {
    const { core, calls } = recordingCore();
    const r = await cli(argv, { core });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.fn).toBe(fn);
    expect(calls[0]!.opts).toMatchObject(expected);
  });

  it('commit without --server-hashes leaves dbHash to the policy (dbsnap.json, a server on this machine), change streams on', async () => {
    const { core, calls } = recordingCore();
    await cli(['commit', '--uri', URI], { core });
    expect(Object.keys(calls[0]!.opts)).not.toContain('useServerHashes');
    expect(Object.keys(calls[0]!.opts)).not.toContain('useChangeStreams');
  });

  it('takes the repository and URI from the environment', async () => {
    const { core, calls } = recordingCore();
    await cli(['commit'], { core, env: { DBSNAP_REPO: '/srv/snaps', MONGODB_URI: URI } });
    expect(calls[0]!.opts).toMatchObject({ repo: '/srv/snaps', uri: URI });
  });

  it('passes DBSNAP_KEY to commit without printing it', async () => {
    const { core, calls } = recordingCore();
    const r = await cli(['commit', '--uri', URI], { core, env: { DBSNAP_KEY: 'k'.repeat(64) } });
    expect(calls[0]!.opts.key).toEqual({ text: 'k'.repeat(64), source: 'DBSNAP_KEY' });
    expect(r.stdout + r.stderr).not.toContain('kkkk');
  });

  it('rejects unknown commands and options with exit 2 and a one-line error', async () => {
    const { core, calls } = recordingCore();
    const a = await cli(['frobnicate'], { core });
    expect(a.code).toBe(2);
    const b = await cli(['commit', '--bogus', '--uri', URI], { core });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/Unknown argument: bogus/);
    expect(calls).toHaveLength(0);
  });

  it('prints typed errors as "error: ..." without a stack, and with one under --debug', async () => {
    const failing = { ...realCore, log: async () => { throw new realCore.RepositoryNotFoundError('no repo at x; run dbsnap init'); } } as unknown as Core;
    const r = await cli(['log'], { core: failing });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: no repo at x; run dbsnap init\n');
    const d = await cli(['log', '--debug'], { core: failing });
    expect(d.stderr).toMatch(/^error: no repo at x; run dbsnap init\n.*at /s);
  });

  it('status exits 1 when the database differs from HEAD', async () => {
    const { core } = recordingCore();
    const dirty = { ...core, status: async () => ({ clean: false, against: 'HEAD', collections: [{ name: 'users', status: 'changed', added: 2, removed: 0, changed: 1, indexes: 0, options: 0 }], diff: {} }) } as unknown as Core;
    const r = await cli(['status', '--uri', URI], { core: dirty });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('changes since HEAD:\n  users: 2 added, 1 changed\n');
  });
});

describe('key files', () => {
  it('a missing key file is a one-line error naming the file, and nothing runs', async () => {
    const calls: string[] = [];
    const core = { ...realCore, commit: async () => { calls.push('commit'); return {}; } } as unknown as Core;
    const r = await cli(['commit', '--uri', URI, '--key-file', '/nonexistent/dbsnap.key'], { core });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: cannot read the key file /nonexistent/dbsnap.key: ENOENT.\n');
    expect(calls).toEqual([]);
  });
});

describe('errors from the server', () => {
  it('print as one line without a stack or a bug hint, credentials removed', async () => {
    class MongoServerError extends Error {
      override name = 'MongoServerError';
    }
    const core = {
      ...realCore,
      diff: async () => {
        throw new MongoServerError('not authorized on mongodb://alice:pw@db.example.com/shop to execute command\nmore detail');
      },
    } as unknown as Core;
    const r = await cli(['diff', '--uri', URI], { core });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: MongoDB: not authorized on mongodb://<credentials>@db.example.com/shop to execute command\n');
  });
});
