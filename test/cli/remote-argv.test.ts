import { describe, expect, it } from 'vitest';
import * as realCore from '../../src/core/index.js';
import type { Core } from '../../src/cli/context.js';
import { cli } from './support.js';

/** A core whose remote functions record their options and return canned results. */
function recordingCore() {
  const calls: { fn: string; opts: Record<string, unknown> }[] = [];
  const record = (fn: string, result: unknown) => async (opts: Record<string, unknown>) => {
    calls.push({ fn, opts });
    return result;
  };
  const fetched = { remote: 'origin', url: 'u', refs: [], head: null };
  const core = {
    ...realCore,
    listRemotes: record('listRemotes', []),
    addRemote: record('addRemote', { name: 'nas', url: '/mnt/nas/x.git', kind: 'file' }),
    removeRemote: record('removeRemote', { name: 'nas', url: '/mnt/nas/x.git', kind: 'file' }),
    push: record('push', { ok: true, remotes: [{ remote: 'origin', url: 'u', status: 'up-to-date', refs: [], objects: 0, bytes: 0 }] }),
    fetchRemote: record('fetchRemote', fetched),
    pull: record('pull', { fetch: fetched, branch: 'refs/heads/main', old: 'a', new: 'a', status: 'up-to-date' }),
    clone: record('clone', { dir: 'd', url: 'u', branch: 'refs/heads/main', commit: 'c'.repeat(40), tags: 0, dbsnap: true }),
  } as unknown as Core;
  return { core, calls };
}

describe('remote commands: argv -> core call', () => {
  it.each<[string[], string, Record<string, unknown>]>([
    [['remote'], 'listRemotes', { repo: './backup-repo' }],
    [['remote', 'list'], 'listRemotes', {}],
    [['remote', 'add', 'nas', '/mnt/nas/x.git'], 'addRemote', { name: 'nas', url: '/mnt/nas/x.git' }],
    [['remote', 'remove', 'nas'], 'removeRemote', { name: 'nas' }],
    [['push'], 'push', { remotes: [], all: false, tags: true, safety: false, force: false, token: 'tok' }],
    [['push', 'origin', 'nas', '--no-tags', '--safety', '-f'], 'push', { remotes: ['origin', 'nas'], tags: false, safety: true, force: true }],
    [['push', '--all'], 'push', { all: true }],
    [['fetch', 'nas'], 'fetchRemote', { remote: 'nas', token: 'tok' }],
    [['pull'], 'pull', { remote: undefined }],
    [['clone', 'https://example.com/x.git'], 'clone', { url: 'https://example.com/x.git', dir: './backup-repo', token: 'tok' }],
    [['clone', '/mnt/nas/x.git', '/tmp/y', '--repo', '/ignored'], 'clone', { dir: '/tmp/y' }],
  ])('dbsnap %j calls %s', async (argv, fn, expected) => {
    const { core, calls } = recordingCore();
    const r = await cli(argv, { core, env: { DBSNAP_GIT_TOKEN: 'tok' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.fn).toBe(fn);
    expect(calls[0]!.opts).toMatchObject(expected);
  });

  it('GIT_TOKEN is the fallback; DBSNAP_GIT_TOKEN wins', async () => {
    const a = recordingCore();
    await cli(['push'], { core: a.core, env: { GIT_TOKEN: 'g' } });
    expect(a.calls[0]!.opts.token).toBe('g');
    const b = recordingCore();
    await cli(['push'], { core: b.core, env: { GIT_TOKEN: 'g', DBSNAP_GIT_TOKEN: 'd' } });
    expect(b.calls[0]!.opts.token).toBe('d');
  });

  it('push exits 2 when a remote failed, printing its line on stderr', async () => {
    const { core } = recordingCore();
    (core as unknown as Record<string, unknown>).push = async () => ({
      ok: false,
      remotes: [
        { remote: 'a', url: 'https://h/a.git', status: 'pushed', refs: [{ ref: 'refs/heads/main', old: null, new: 'c'.repeat(40), kind: 'new' }], objects: 3, bytes: 2048 },
        { remote: 'bb', url: '/x', status: 'failed', refs: [], error: { code: 'EREMOTE', message: '/x is not a git repository.' } },
      ],
    });
    const r = await cli(['push', '--all'], { core });
    expect(r).toEqual({ code: 2, stdout: 'a   https://h/a.git: 3 objects, 2.0 KiB (main (new))\n', stderr: 'error: bb  /x: /x is not a git repository.\n' });
  });

  it('remote add without a URL is a usage error and calls nothing', async () => {
    const { core, calls } = recordingCore();
    const r = await cli(['remote', 'add', 'nas'], { core });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: dbsnap remote add needs a name and a URL: dbsnap remote add NAME URL.\n');
    expect(calls).toHaveLength(0);
  });
});
